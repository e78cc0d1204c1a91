package app

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/kpi-analytics/kpi/internal/auth"
)

// validateAccess checks the access control and TLS settings.
func (c *Config) validateAccess() error {
	if addr := cmp.Or(c.Addr, DefaultAddr); !c.Auth && !auth.IsLoopback(addr) {
		return fmt.Errorf("config: access control is off (--no-auth), which is allowed only on "+
			"a loopback address (127.0.0.0/8, ::1, localhost), not on %q", addr)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("config: TLS needs both a certificate and a key")
	}
	return nil
}

// openAccess loads the TLS certificate and, with access control on, the API
// keys. On the embedded default it creates the first admin key when there is
// none, so that somebody can get in.
func (a *App) openAccess(ctx context.Context) error {
	if err := a.loadTLS(); err != nil {
		return err
	}
	if !a.cfg.Auth {
		return nil
	}
	keys, err := auth.Open(ctx, auth.Config{JetStream: a.js, Logger: a.log})
	if err != nil {
		return err
	}
	a.keys, a.guardian = keys, auth.NewGuard(keys, a.log)
	if a.cfg.NATSURL == "" {
		path := filepath.Join(a.cfg.DataDir, auth.AdminKeyFile)
		created, err := auth.EnsureAdminKey(ctx, keys, path)
		if err != nil {
			return err
		}
		if created {
			a.adminKeyFile = path
		}
	}
	if !keys.HasOperatorAdmin() {
		a.log.Warn("no admin API key for all tenants; make one with `kpi keys bootstrap`",
			"component", "auth")
	}
	return nil
}

// loadTLS reads the server certificate. TLS 1.2 is the floor, and 1.2 gets
// only forward-secret AEAD suites; 1.3 suites are not configurable in Go.
//
// TODO: reload a renewed certificate without a restart.
func (a *App) loadTLS() error {
	if a.cfg.TLSCert == "" {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("tls: load %s: %w", a.cfg.TLSCert, err)
	}
	a.tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,
		}}
	return nil
}

// guard puts the key check for role in front of h when access control is on;
// see auth.Guard.Require for scope.
func (a *App) guard(role auth.Role, scope auth.Scope, h http.Handler) http.Handler {
	if a.guardian == nil {
		return h
	}
	return a.guardian.Require(role, scope, h)
}

// mountAdmin serves the key management API when access control is on.
func (a *App) mountAdmin(mux *http.ServeMux) {
	if a.keys != nil {
		mux.Handle("/v1/admin/", auth.NewAdminAPI(a.keys, a.guardian, a.log))
	}
}

// withHSTS tells browsers to keep to HTTPS once they have seen it.
func (a *App) withHSTS(next http.Handler) http.Handler {
	if a.tlsConf == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}

// serve runs the HTTP server on the bound listener, over TLS if configured.
func (a *App) serve() error {
	if a.cfg.Auth && a.tlsConf == nil && !auth.IsLoopback(a.Addr()) {
		a.log.Warn("API keys travel in clear text: serve TLS (--tls-cert, --tls-key) or put "+
			"a TLS proxy in front", "component", "auth", "addr", a.Addr())
	}
	if !a.cfg.Auth {
		a.log.Warn("access control is off (--no-auth): whoever reaches the address may read "+
			"and write every tenant", "component", "auth", "addr", a.Addr())
	}
	var err error
	if a.tlsConf != nil {
		a.srv.TLSConfig = a.tlsConf
		err = a.srv.ServeTLS(a.listener, "", "")
	} else {
		err = a.srv.Serve(a.listener)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// URL is the root of the HTTP API, after Listen.
func (a *App) URL() string {
	if a.tlsConf != nil {
		return "https://" + a.Addr()
	}
	return "http://" + a.Addr()
}

// AdminKeyFile is where this start wrote a new admin key, or "" if it made
// none.
func (a *App) AdminKeyFile() string { return a.adminKeyFile }
