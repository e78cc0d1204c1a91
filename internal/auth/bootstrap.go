package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AdminKeyFile is the file, in the data directory of the embedded default,
// where kpi leaves the admin key it creates on first start.
const AdminKeyFile = "admin.key"

// EnsureAdminKey makes sure somebody can get in: when the store has no admin
// key for all tenants, it creates one and writes it to path, readable by its
// owner only. It reports whether it made a key.
func EnsureAdminKey(ctx context.Context, s *Store, path string) (bool, error) {
	if s.HasOperatorAdmin() {
		return false, nil
	}
	k, secret, err := s.Create(ctx, Spec{Tenant: AllTenants, Role: RoleAdmin,
		Name: "created on first start"})
	if err != nil {
		return false, err
	}
	if err := WriteKeyFile(path, secret); err != nil {
		// A key nobody can read would only stand in the next start's way.
		return false, errors.Join(err, s.remove(ctx, k.ID))
	}
	s.log.InfoContext(ctx, "admin api key created", "key_id", k.ID, "path", path)
	return true, nil
}

// WriteKeyFile writes a key to path with mode 0600, replacing any file there
// atomically.
func WriteKeyFile(path, secret string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("auth: write key file: %w", err)
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("auth: write key file: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("auth: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("auth: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("auth: write key file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("auth: write key file: %w", err)
	}
	return nil
}

// ReadKeyFile reads a key written by WriteKeyFile.
func ReadKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("auth: read key file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
