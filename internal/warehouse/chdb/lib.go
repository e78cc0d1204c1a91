package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// LibVersion is the libchdb release kpi is built and tested against.
const LibVersion = "26.7.3-stable.1"

// InstallHint is the command that fetches libchdb into the default cache.
const InstallHint = "make libchdb"

// ErrLibraryMissing is returned by Open when libchdb.so cannot be found.
var ErrLibraryMissing = errors.New("chdb: libchdb.so not found")

// lib holds the libchdb entry points, resolved once on first use. The library
// is loaded lazily so that a kpi binary runs in server mode on machines that
// have no libchdb at all.
type lib struct {
	connect     func(argc int32, argv *unsafe.Pointer) *ptr
	closeConn   func(conn *ptr)
	queryParams func(conn ptr, q *byte, qlen uintptr, f *byte, flen uintptr,
		names *unsafe.Pointer, nameLens *uintptr,
		values *unsafe.Pointer, valueLens *uintptr, n uintptr) ptr
	resultBuffer  func(res ptr) *byte
	resultLength  func(res ptr) uintptr
	resultError   func(res ptr) *byte
	destroyResult func(res ptr)
	streamInsert  func(conn ptr, q *byte, qlen uintptr, f *byte, flen uintptr) ptr
	streamAppend  func(stream ptr, data *byte, n uintptr) int32
	streamDone    func(stream ptr) ptr
	streamError   func(stream ptr) *byte
	destroyStream func(stream ptr)
	version       func() *byte
}

var (
	loadOnce sync.Once
	loaded   *lib
	loadErr  error
)

// LibraryPath returns where kpi looks for libchdb.so: $KPI_LIBCHDB if set,
// else the per-version cache that `make libchdb` fills.
func LibraryPath() string {
	if p := os.Getenv("KPI_LIBCHDB"); p != "" {
		return p
	}
	return filepath.Join(CacheDir(), "libchdb.so")
}

// CacheDir is the version-keyed directory libchdb is cached in, outside any
// clone so that CI and every checkout share one 570 MB copy.
func CacheDir() string {
	base := os.Getenv("KPI_CACHE_DIR")
	if base == "" {
		if d, err := os.UserCacheDir(); err == nil {
			base = filepath.Join(d, "kpi")
		} else {
			base = filepath.Join(os.TempDir(), "kpi-cache")
		}
	}
	return filepath.Join(base, "libchdb", LibVersion)
}

func load() (*lib, error) {
	loadOnce.Do(func() { loaded, loadErr = loadFrom(LibraryPath()) })
	return loaded, loadErr
}

func loadFrom(path string) (*lib, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w at %s: install it with `%s` or set KPI_LIBCHDB",
			ErrLibraryMissing, path, InstallHint)
	}
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("chdb: load %s: %w", path, err)
	}
	l := &lib{}
	syms := []struct {
		fn   any
		name string
	}{
		{&l.connect, "chdb_connect"},
		{&l.closeConn, "chdb_close_conn"},
		{&l.queryParams, "chdb_query_with_params_n"},
		{&l.resultBuffer, "chdb_result_buffer"},
		{&l.resultLength, "chdb_result_length"},
		{&l.resultError, "chdb_result_error"},
		{&l.destroyResult, "chdb_destroy_query_result"},
		{&l.streamInsert, "chdb_stream_insert_n"},
		{&l.streamAppend, "chdb_stream_append"},
		{&l.streamDone, "chdb_stream_done"},
		{&l.streamError, "chdb_stream_insert_error"},
		{&l.destroyStream, "chdb_destroy_insert_stream"},
		{&l.version, "chdb_version"},
	}
	for _, s := range syms {
		if _, err := purego.Dlsym(h, s.name); err != nil {
			return nil, fmt.Errorf("chdb: %s lacks %s (want libchdb %s): %w",
				path, s.name, LibVersion, err)
		}
		purego.RegisterLibFunc(s.fn, h, s.name)
	}
	return l, nil
}

// ptr is an opaque C handle (connection, result, insert stream).
type ptr = unsafe.Pointer

// cString copies a NUL-terminated C string into Go memory.
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

// cBytes copies n bytes of C memory into Go memory.
func cBytes(p *byte, n uintptr) []byte {
	if p == nil || n == 0 {
		return nil
	}
	out := make([]byte, n)
	copy(out, unsafe.Slice(p, n))
	return out
}
