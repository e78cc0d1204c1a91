package auth

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultBucket is the JetStream key-value bucket that holds the keys.
const DefaultBucket = "KPI_KEYS"

// Config wires a Store.
type Config struct {
	JetStream jetstream.JetStream
	// Bucket defaults to DefaultBucket; Replicas to 1.
	Bucket   string
	Replicas int
	Logger   *slog.Logger
	// Now is for tests; it defaults to the clock.
	Now func() time.Time
}

// Store keeps API keys in a JetStream key-value bucket, one entry per key
// under its id, and answers from an in-memory copy that a watcher on the
// bucket keeps current: a key created or revoked by any process of the
// deployment counts everywhere as soon as the bucket's update arrives,
// without a round trip per request. While a process is cut off from NATS it
// keeps its last view of the keys.
type Store struct {
	kv      jetstream.KeyValue
	log     *slog.Logger
	now     func() time.Time
	watcher jetstream.KeyWatcher
	done    chan struct{} // closed when the watcher's updates end
	once    sync.Once

	mu       sync.RWMutex // guards byID and byDigest
	byID     map[string]cached
	byDigest map[digest]Key
}

type cached struct {
	key    Key
	digest digest
}

// record is a key as stored in the bucket: its description and the hex
// SHA-256 of the secret, never the secret.
type record struct {
	Key
	SHA256 string `json:"sha256"`
}

// Open creates or updates the bucket and loads every key before it returns,
// so that a process never serves with a partial view of the keys.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.JetStream == nil {
		return nil, errors.New("auth: config: jetstream is required")
	}
	bucket := cmp.Or(cfg.Bucket, DefaultBucket)
	kv, err := cfg.JetStream.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "kpi API keys, hashed", History: 1,
		Storage: jetstream.FileStorage, Replicas: max(cfg.Replicas, 1)})
	if err != nil {
		return nil, fmt.Errorf("auth: open bucket %s: %w", bucket, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{kv: kv, log: log.With("component", "auth"), now: now,
		done: make(chan struct{}), byID: map[string]cached{}, byDigest: map[digest]Key{}}
	if s.watcher, err = kv.WatchAll(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("auth: watch bucket %s: %w", bucket, err)
	}
	loaded := make(chan struct{})
	go s.follow(loaded)
	select {
	case <-loaded:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("auth: watch bucket %s: ended before the keys were loaded", bucket)
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("auth: load keys: %w", ctx.Err())
	}
}

// follow applies the bucket's updates until the watcher stops; it closes
// loaded once the entries that existed at the start are in.
func (s *Store) follow(loaded chan<- struct{}) {
	defer close(s.done)
	for e := range s.watcher.Updates() {
		if e == nil {
			if loaded != nil {
				close(loaded)
				loaded = nil
			}
			continue
		}
		s.apply(e)
	}
}

func (s *Store) apply(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		s.forget(e.Key())
		return
	}
	k, d, err := decodeRecord(e.Key(), e.Value())
	if err != nil {
		s.log.Warn("ignoring unreadable key record", "key_id", e.Key(),
			"revision", e.Revision(), "error", err)
		s.forget(e.Key())
		return
	}
	s.remember(k, d)
}

func decodeRecord(id string, data []byte) (Key, digest, error) {
	var r record
	var d digest
	if err := json.Unmarshal(data, &r); err != nil {
		return Key{}, d, fmt.Errorf("decode: %w", err)
	}
	if r.ID != id {
		return Key{}, d, fmt.Errorf("record id %q under entry %q", r.ID, id)
	}
	if n, err := hex.Decode(d[:], []byte(r.SHA256)); err != nil || n != len(d) {
		return Key{}, d, fmt.Errorf("sha256 %q is not %d hex bytes", r.SHA256, len(d))
	}
	return r.Key, d, nil
}

func (s *Store) remember(k Key, d digest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byID[k.ID]; ok {
		delete(s.byDigest, old.digest)
	}
	s.byID[k.ID] = cached{k, d}
	s.byDigest[d] = k
}

func (s *Store) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byID[id]; ok {
		delete(s.byDigest, old.digest)
		delete(s.byID, id)
	}
}

// Authenticate returns the live key whose secret this is.
func (s *Store) Authenticate(secret string) (Key, bool) {
	d, ok := digestOf(secret)
	if !ok {
		return Key{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.byDigest[d]
	return k, ok
}

// Create makes a key and stores its hash. It returns the key's description
// and the secret, which exists nowhere else afterwards. An invalid spec
// gives an error wrapping [ErrInvalidSpec].
func (s *Store) Create(ctx context.Context, spec Spec) (Key, string, error) {
	if err := spec.Validate(); err != nil {
		return Key{}, "", err
	}
	secret := newSecret()
	d, _ := digestOf(secret)
	k := Key{Name: spec.Name, Tenant: spec.Tenant, Role: spec.Role, CreatedBy: spec.CreatedBy,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	for attempt := 1; ; attempt++ {
		k.ID = newID()
		data, err := json.Marshal(record{Key: k, SHA256: hex.EncodeToString(d[:])})
		if err != nil {
			return Key{}, "", fmt.Errorf("auth: create key: %w", err)
		}
		_, err = s.kv.Create(ctx, k.ID, data)
		if errors.Is(err, jetstream.ErrKeyExists) && attempt < 3 {
			continue // an id drawn twice: draw again
		}
		if err != nil {
			return Key{}, "", fmt.Errorf("auth: create key: %w", err)
		}
		s.remember(k, d)
		return k, secret, nil
	}
}

// Revoke deletes a key everywhere. It returns [ErrNotFound] for an id that
// is not a live key and [ErrLastAdmin] for the last admin key for all
// tenants.
func (s *Store) Revoke(ctx context.Context, id string) error {
	k, ok := s.Get(id)
	if !ok {
		return ErrNotFound
	}
	if k.AllTenants() && k.Role == RoleAdmin && s.operatorAdmins() == 1 {
		return ErrLastAdmin
	}
	return s.remove(ctx, id)
}

// remove deletes the key without the last-admin check.
func (s *Store) remove(ctx context.Context, id string) error {
	if err := s.kv.Delete(ctx, id); err != nil {
		return fmt.Errorf("auth: revoke key %s: %w", id, err)
	}
	s.forget(id)
	return nil
}

// Get returns the live key with the id.
func (s *Store) Get(id string) (Key, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.byID[id]
	return c.key, ok
}

// List returns every live key, oldest first.
func (s *Store) List() []Key {
	s.mu.RLock()
	out := make([]Key, 0, len(s.byID))
	for _, c := range s.byID {
		out = append(out, c.key)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Key) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// HasOperatorAdmin reports whether an admin key for all tenants exists.
func (s *Store) HasOperatorAdmin() bool { return s.operatorAdmins() > 0 }

func (s *Store) operatorAdmins() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, c := range s.byID {
		if c.key.AllTenants() && c.key.Role == RoleAdmin {
			n++
		}
	}
	return n
}

// Close stops following the bucket; the Store answers from its last view.
func (s *Store) Close() {
	s.once.Do(func() {
		_ = s.watcher.Stop()
		select {
		case <-s.done:
		case <-time.After(closeTimeout):
			// The updates channel closes with the subscription; a connection
			// already gone may never report that, and shutdown must not hang.
		}
	})
}

const closeTimeout = 5 * time.Second
