package main

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// loginPage is the OP's sign-in form. The OP sends the browser to
// GET /login?authRequestID=ID; the form posts the credentials back to /login;
// on success the browser goes on to the OP's /authorize/callback, which
// redirects to the client with a code.
//
// Stable selectors for browser tests:
//
//	form#login-form, input#username[name=username],
//	input#password[name=password], button#submit[type=submit],
//	p#error (only after a failed attempt), h1#client (the client's id)
type loginPage struct {
	store    *storage
	callback func(context.Context, string) string
	issuer   *op.IssuerInterceptor
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - webshell test OP</title>
<style>
body { font-family: sans-serif; max-width: 24rem; margin: 4rem auto; padding: 0 1rem; }
label, input, button { display: block; width: 100%; box-sizing: border-box; }
input { margin: 0.25rem 0 1rem; padding: 0.5rem; }
button { padding: 0.6rem; }
#error { color: #b00020; }
</style>
</head>
<body>
<h1 id="client">Sign in to {{.ClientID}}</h1>
<p>webshell test OpenID provider</p>
{{if .Error}}<p id="error" role="alert">{{.Error}}</p>{{end}}
<form id="login-form" method="post" action="/login">
<input type="hidden" name="authRequestID" value="{{.ID}}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" value="{{.Username}}" autofocus required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="submit" type="submit">Sign in</button>
</form>
</body>
</html>
`))

type loginData struct {
	ID, ClientID, Username, Error string
}

func (l *loginPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		id := r.URL.Query().Get("authRequestID")
		l.render(w, http.StatusOK, id, "", "")
	case http.MethodPost:
		l.issuer.HandlerFunc(l.post)(w, r)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (l *loginPage) post(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot parse the form: "+err.Error(), http.StatusBadRequest)
		return
	}
	id := r.PostFormValue("authRequestID")
	username := r.PostFormValue("username")
	if err := l.store.checkLogin(id, username, r.PostFormValue("password")); err != nil {
		slog.Info("login failed", "user", username, "error", err)
		l.render(w, http.StatusUnauthorized, id, username, err.Error())
		return
	}
	slog.Info("login", "user", username)
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}

func (l *loginPage) render(w http.ResponseWriter, status int, id, username, errMsg string) {
	clientID, ok := l.store.authRequestInfo(id)
	if !ok && errMsg == "" {
		errMsg = "this sign-in request is unknown or expired; start again from the application"
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, loginData{ID: id, ClientID: clientID, Username: username, Error: errMsg})
}
