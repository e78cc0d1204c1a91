package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kpi-analytics/kpi/internal/app"
	"github.com/kpi-analytics/kpi/internal/auth"
	"github.com/kpi-analytics/kpi/internal/broker"
)

// apiFlags say how a client reaches a kpi server: its URL and an API key.
type apiFlags struct {
	url, key, dataDir string
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", defaultURL(), "kpi server URL ($KPI_URL)")
	fs.StringVar(&f.key, "key", "", "API key (default $KPI_API_KEY, else the admin key file "+
		"in --data-dir)")
	fs.StringVar(&f.dataDir, "data-dir", env("KPI_DATA_DIR", app.DefaultDataDir),
		"data directory of a local kpi serve, whose admin key file is the default key")
}

// apiKey is the key to send: --key, $KPI_API_KEY, or the admin key file a
// local server wrote; "" when there is none (for a server run with --no-auth).
func (f *apiFlags) apiKey() (string, error) {
	if f.key != "" {
		return f.key, nil
	}
	if k := os.Getenv("KPI_API_KEY"); k != "" {
		return k, nil
	}
	k, err := auth.ReadKeyFile(filepath.Join(f.dataDir, auth.AdminKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return k, err
}

// authorize sets the request's API key, if there is one.
func authorize(req *http.Request, key string) {
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
}

// call sends in (if not nil) as JSON and decodes the answer into out (if not
// nil); an answer that is not a success becomes an error with its message.
func (f *apiFlags) call(ctx context.Context, method, path string, in, out any) error {
	key, err := f.apiKey()
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(f.url, "/")+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	authorize(req, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return answerError(resp)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// answerError turns a failed answer into an error, preferring the "error"
// field of a JSON body.
func answerError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	return fmt.Errorf("%s: %s", resp.Status, msg)
}

var keysCommands = []command{
	{"create", "make an API key and print it (shown this once)", keysCreate},
	{"list", "list API keys (ids, tenants, roles; never the keys)", keysList},
	{"revoke", "revoke an API key by its id", keysRevoke},
	{"bootstrap", "make an admin key for all tenants directly in NATS (external NATS)",
		keysBootstrap},
}

func runKeys(ctx context.Context, args []string) error {
	return dispatch(ctx, "keys", keysCommands, args)
}

// dispatch runs the subcommand of group named by args[0].
func dispatch(ctx context.Context, group string, cmds []command, args []string) error {
	if len(args) > 0 {
		for _, c := range cmds {
			if c.name == args[0] {
				return c.run(ctx, args[1:])
			}
		}
	}
	fmt.Fprintf(os.Stderr, "usage: kpi %s <command> [flags]\n\ncommands:\n", group)
	for _, c := range cmds {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.summary)
	}
	return fmt.Errorf("unknown or missing %s command", group)
}

func keysCreate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keys create", flag.ExitOnError)
	var af apiFlags
	af.register(fs)
	tenant := fs.String("tenant", "", "the only tenant the key may touch")
	all := fs.Bool("all-tenants", false, "make a key for every tenant (operators)")
	role := fs.String("role", "", "ingest, read or admin (admin implies the others)")
	name := fs.String("name", "", "a label, such as who holds the key")
	_ = fs.Parse(args)
	if (*tenant != "") == *all {
		return errors.New("give --tenant NAME, or --all-tenants for an operator key")
	}
	if _, err := auth.ParseRole(*role); err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	req := auth.CreateRequest{Tenant: *tenant, Role: auth.Role(*role), Name: *name}
	if *all {
		req.Tenant = auth.AllTenants
	}
	var out auth.Created
	if err := af.call(ctx, http.MethodPost, "/v1/admin/keys", req, &out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "created key %s (tenant %s, role %s); it is not shown again:\n",
		out.ID, out.Tenant, out.Role)
	fmt.Println(out.Secret)
	return nil
}

func keysList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keys list", flag.ExitOnError)
	var af apiFlags
	af.register(fs)
	_ = fs.Parse(args)
	var out auth.KeyList
	if err := af.call(ctx, http.MethodGet, "/v1/admin/keys", nil, &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tROLE\tCREATED\tBY\tNAME")
	for _, k := range out.Keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Tenant, k.Role,
			k.CreatedAt.Format(time.RFC3339), k.CreatedBy, k.Name)
	}
	return tw.Flush()
}

func keysRevoke(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keys revoke", flag.ExitOnError)
	var af apiFlags
	af.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kpi keys revoke [flags] ID")
		fs.PrintDefaults()
	}
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("one key id expected")
	}
	id := fs.Arg(0)
	if err := af.call(ctx, http.MethodDelete, "/v1/admin/keys/"+url.PathEscape(id), nil,
		nil); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "revoked key %s\n", id)
	return nil
}

// keysBootstrap makes the first admin key of a deployment on an external
// NATS, where no server creates one: whoever holds the NATS credentials
// holds the keys bucket anyway.
func keysBootstrap(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keys bootstrap", flag.ExitOnError)
	var cc broker.ClientConfig
	fs.StringVar(&cc.URL, "nats-url", env("KPI_NATS_URL", ""), "NATS URL ($KPI_NATS_URL)")
	fs.StringVar(&cc.CredsFile, "nats-creds", env("KPI_NATS_CREDS", ""), "NATS credentials file")
	fs.StringVar(&cc.CAFile, "nats-ca", env("KPI_NATS_CA", ""), "CA file for NATS TLS")
	fs.StringVar(&cc.CertFile, "nats-cert", env("KPI_NATS_CERT", ""),
		"client certificate for NATS TLS")
	fs.StringVar(&cc.KeyFile, "nats-key", env("KPI_NATS_KEY", ""), "client key for NATS TLS")
	out := fs.String("out", "", "write the key to this file (mode 0600) instead of stdout")
	name := fs.String("name", "bootstrap", "a label for the key")
	_ = fs.Parse(args)
	if cc.URL == "" {
		return errors.New("--nats-url is required; on the embedded default kpi serve makes the " +
			"first admin key itself, in <data-dir>/" + auth.AdminKeyFile)
	}
	cc.Name = "kpi keys bootstrap"
	nc, js, err := broker.Connect(cc)
	if err != nil {
		return err
	}
	defer nc.Close()
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := auth.Open(octx, auth.Config{JetStream: js})
	if err != nil {
		return err
	}
	defer store.Close()
	k, secret, err := store.Create(octx, auth.Spec{Tenant: auth.AllTenants, Role: auth.RoleAdmin,
		Name: *name})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "created admin key %s for all tenants\n", k.ID)
	if *out != "" {
		return auth.WriteKeyFile(*out, secret)
	}
	fmt.Println(secret)
	return nil
}
