// oidc-provider is the test cluster's OpenID Connect provider: a real OP
// (github.com/zitadel/oidc/v3/pkg/op) with a username+password login page,
// in-memory users and clients, served over HTTPS with a certificate signed by
// the test cluster's CA. kube-apiserver trusts it through its
// --authentication-config, webshell's oidc mode and oauth2-proxy log in at it.
//
// Everything lives in memory and is new on every start: signing key, auth
// requests, tokens. There is no single sign-on session: every authorization
// request shows the login form.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var (
		listen          = flag.String("listen", "127.0.0.1:25556", "host:port to serve HTTPS on")
		issuer          = flag.String("issuer", "", "issuer URL (default https://<listen>)")
		certFile        = flag.String("tls-cert", "", "PEM serving certificate (required)")
		keyFile         = flag.String("tls-key", "", "PEM private key of the serving certificate (required)")
		idTokenTTL      = flag.Duration("id-token-lifetime", 5*time.Minute, "lifetime of ID tokens")
		accessTokenTTL  = flag.Duration("access-token-lifetime", 5*time.Minute, "lifetime of access tokens")
		refreshTokenTTL = flag.Duration("refresh-token-lifetime", 24*time.Hour, "lifetime of refresh tokens (rotated on use)")
		users, clients  listFlag
	)
	flag.Var(&users, "user", "NAME:PASSWORD[:GROUP,GROUP...] a user who may log in (repeatable); "+
		"sub and preferred_username are NAME, email is NAME@webshell.test")
	flag.Var(&clients, "client", "ID:SECRET:CALLBACK_PATH a confidential client (repeatable); redirect URIs are "+
		"http(s)://{127.0.0.1,localhost,[::1]}[:any port]CALLBACK_PATH")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)
	if err := run(*listen, *issuer, *certFile, *keyFile, users, clients, lifetimes{
		idToken: *idTokenTTL, accessToken: *accessTokenTTL, refreshToken: *refreshTokenTTL,
	}); err != nil {
		logger.Error("oidc-provider failed", "error", err)
		os.Exit(1)
	}
}

type lifetimes struct {
	idToken, accessToken, refreshToken time.Duration
}

func run(listen, issuer, certFile, keyFile string, userSpecs, clientSpecs []string, ttl lifetimes) error {
	if certFile == "" || keyFile == "" {
		return errors.New("--tls-cert and --tls-key are required")
	}
	if issuer == "" {
		issuer = "https://" + listen
	}
	issuer = strings.TrimSuffix(issuer, "/")
	users, err := parseUsers(userSpecs)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return errors.New("no --user given")
	}
	clients, err := parseClients(clientSpecs, ttl.idToken)
	if err != nil {
		return err
	}
	if len(clients) == 0 {
		return errors.New("no --client given")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("loading the serving certificate: %w", err)
	}

	store, err := newStorage(users, clients, ttl)
	if err != nil {
		return err
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return err
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		CryptoKeyId:              "webshell-test",
		DefaultLogoutRedirectURI: pathLoggedOut,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedScopes:          slices.Concat(op.DefaultSupportedScopes, []string{scopeGroups}),
		SupportedClaims:          slices.Concat(op.DefaultSupportedClaims, []string{claimGroups}),
	}, store, op.StaticIssuer(issuer))
	if err != nil {
		return fmt.Errorf("creating the OP: %w", err)
	}

	mux := http.NewServeMux()
	login := &loginPage{
		store:    store,
		callback: op.AuthCallbackURL(provider),
		issuer:   op.NewIssuerInterceptor(provider.IssuerFromRequest),
	}
	mux.Handle(pathLogin, login)
	mux.HandleFunc(pathLoggedOut, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Signed out</title><p id="signed-out">You are signed out of the webshell test OP.</p>`)
	})
	mux.Handle("/", provider)

	srv := &http.Server{
		Handler:           logRequests(mux),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	slog.Info("serving", "issuer", issuer, "listen", ln.Addr().String(),
		"users", len(users), "clients", len(clients), "id_token_lifetime", ttl.idToken)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		slog.Info("stopped")
		return nil
	}
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		slog.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond))
	})
}
