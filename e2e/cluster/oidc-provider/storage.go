package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// storage is the OP's in-memory state: users and clients (fixed at start),
// auth requests, codes and tokens.
type storage struct {
	users   map[string]*user
	clients map[string]*client
	ttl     lifetimes
	key     *signingKey

	mu            sync.Mutex
	authRequests  map[string]*authRequest
	codes         map[string]string // code -> auth request id
	accessTokens  map[string]*accessToken
	refreshTokens map[string]*refreshToken
}

var _ op.Storage = (*storage)(nil)

func newStorage(users map[string]*user, clients map[string]*client, ttl lifetimes) (*storage, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &storage{
		users:         users,
		clients:       clients,
		ttl:           ttl,
		key:           &signingKey{id: randomID(), key: key},
		authRequests:  map[string]*authRequest{},
		codes:         map[string]string{},
		accessTokens:  map[string]*accessToken{},
		refreshTokens: map[string]*refreshToken{},
	}, nil
}

func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// ---------------------------------------------------------------- login

// checkLogin is called by the login page; on success the auth request is done
// and the OP may issue a code for it.
func (s *storage) checkLogin(authRequestID, username, password string) error {
	u, ok := s.users[username]
	if !ok || subtle.ConstantTimeCompare([]byte(u.password), []byte(password)) != 1 {
		return errors.New("wrong username or password")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[authRequestID]
	if !ok {
		return errors.New("this sign-in request is unknown or expired; start again from the application")
	}
	req.userID = u.name
	req.done = true
	req.authTime = time.Now()
	return nil
}

// authRequestInfo is what the login page shows about a pending request.
func (s *storage) authRequestInfo(id string) (clientID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok {
		return "", false
	}
	return req.clientID, true
}

// ---------------------------------------------------------------- auth requests

type authRequest struct {
	id            string
	created       time.Time
	clientID      string
	redirectURI   string
	state         string
	nonce         string
	scopes        []string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge

	userID   string
	done     bool
	authTime time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return amr(a.done) }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.userID }
func (a *authRequest) Done() bool                            { return a.done }

func amr(done bool) []string {
	if done {
		return []string{"pwd"}
	}
	return nil
}

// authRequestTTL bounds how long a login form stays usable.
const authRequestTTL = 15 * time.Minute

func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if len(req.Prompt) == 1 && req.Prompt[0] == oidc.PromptNone {
		// There is no sign-on session, so a silent login can never succeed.
		return nil, oidc.ErrLoginRequired()
	}
	a := &authRequest{
		id:           randomID(),
		created:      time.Now(),
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       req.Scopes,
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		userID:       userID,
	}
	if req.CodeChallenge != "" {
		a.codeChallenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Drop stale requests so a long-running OP does not grow.
	for id, old := range s.authRequests {
		if time.Since(old.created) > authRequestTTL {
			delete(s.authRequests, id)
		}
	}
	s.authRequests[a.id] = a
	return a, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.authRequests[id]
	if !ok {
		return nil, errors.New("auth request not found")
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid or already used")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for code, reqID := range s.codes {
		if reqID == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// ---------------------------------------------------------------- tokens

type accessToken struct {
	id             string
	clientID       string
	subject        string
	audience       []string
	scopes         []string
	expiration     time.Time
	refreshTokenID string
}

type refreshToken struct {
	token      string
	clientID   string
	subject    string
	audience   []string
	scopes     []string
	authTime   time.Time
	amr        []string
	expiration time.Time
	accessID   string
}

// refreshTokenRequest is a refresh token being redeemed.
type refreshTokenRequest struct{ refreshToken }

func (r *refreshTokenRequest) GetAMR() []string             { return r.amr }
func (r *refreshTokenRequest) GetAudience() []string        { return r.audience }
func (r *refreshTokenRequest) GetAuthTime() time.Time       { return r.authTime }
func (r *refreshTokenRequest) GetClientID() string          { return r.clientID }
func (r *refreshTokenRequest) GetScopes() []string          { return r.scopes }
func (r *refreshTokenRequest) GetSubject() string           { return r.subject }
func (r *refreshTokenRequest) SetCurrentScopes(sc []string) { r.scopes = sc }

// tokenRequestInfo returns the client and, for a refresh, the original login
// of a token request.
func tokenRequestInfo(req op.TokenRequest) (clientID string, authTime time.Time, methods []string) {
	switch r := req.(type) {
	case *authRequest:
		return r.clientID, r.authTime, r.GetAMR()
	case *refreshTokenRequest:
		return r.clientID, r.authTime, r.amr
	}
	return "", time.Time{}, nil
}

// newAccessToken stores an access token; the caller holds s.mu.
func (s *storage) newAccessToken(req op.TokenRequest, clientID, refreshTokenID string) *accessToken {
	t := &accessToken{
		id:             randomID(),
		clientID:       clientID,
		subject:        req.GetSubject(),
		audience:       req.GetAudience(),
		scopes:         req.GetScopes(),
		expiration:     time.Now().Add(s.ttl.accessToken),
		refreshTokenID: refreshTokenID,
	}
	s.accessTokens[t.id] = t
	return t
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	clientID, _, _ := tokenRequestInfo(req)
	if clientID == "" {
		return "", time.Time{}, fmt.Errorf("unsupported token request %T", req)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.newAccessToken(req, clientID, "")
	return t.id, t.expiration, nil
}

func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	clientID, authTime, methods := tokenRequestInfo(req)
	if clientID == "" {
		return "", "", time.Time{}, fmt.Errorf("unsupported token request %T", req)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if current != "" {
		// Rotation: the old refresh token and its access token stop working.
		old, ok := s.refreshTokens[current]
		if !ok || time.Now().After(old.expiration) {
			return "", "", time.Time{}, op.ErrInvalidRefreshToken
		}
		delete(s.refreshTokens, current)
		delete(s.accessTokens, old.accessID)
	}
	rt := &refreshToken{
		token:      randomID(),
		clientID:   clientID,
		subject:    req.GetSubject(),
		audience:   req.GetAudience(),
		scopes:     req.GetScopes(),
		authTime:   authTime,
		amr:        methods,
		expiration: time.Now().Add(s.ttl.refreshToken),
	}
	at := s.newAccessToken(req, clientID, rt.token)
	rt.accessID = at.id
	s.refreshTokens[rt.token] = rt
	return at.id, rt.token, at.expiration, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || time.Now().After(rt.expiration) {
		return nil, op.ErrInvalidRefreshToken
	}
	return &refreshTokenRequest{*rt}, nil
}

func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.accessTokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.accessTokens, id)
		}
	}
	for id, t := range s.refreshTokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.refreshTokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.accessTokens[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.accessTokens, tokenOrID)
		return nil
	}
	if t, ok := s.refreshTokens[tokenOrID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.refreshTokens, tokenOrID)
		delete(s.accessTokens, t.accessID)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(_ context.Context, _ string, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refreshTokens[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.subject, t.token, nil
}

// ---------------------------------------------------------------- keys

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ *signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

// ---------------------------------------------------------------- clients, claims

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("unknown client %q", id)
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return errors.New("invalid client id or secret")
	}
	return nil
}

// setUserinfo fills in every claim the OP knows about the user, whatever the
// scopes: sub, preferred_username, name, email, email_verified, locale and
// groups. (A test OP: clients need not ask for profile/email/groups.)
func (s *storage) setUserinfo(info *oidc.UserInfo, userID string) error {
	u, ok := s.users[userID]
	if !ok {
		return fmt.Errorf("unknown user %q", userID)
	}
	info.Subject = u.name
	info.PreferredUsername = u.name
	info.Name = u.name
	info.Locale = oidc.NewLocale(language.English)
	info.Email = u.email()
	info.EmailVerified = oidc.Bool(true)
	groups := u.groups
	if groups == nil {
		groups = []string{}
	}
	info.AppendClaims(claimGroups, groups)
	return nil
}

func (s *storage) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, userID, _ string, _ []string) error {
	return s.setUserinfo(info, userID)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	t, ok := s.accessTokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expiration) {
		return errors.New("access token invalid or expired")
	}
	return s.setUserinfo(info, t.subject)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, _, clientID string) error {
	s.mu.Lock()
	t, ok := s.accessTokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(t.expiration) {
		return errors.New("access token invalid or expired")
	}
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(info, t.subject); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Audience = t.audience
	resp.Expiration = oidc.FromTime(t.expiration)
	return nil
}

// GetPrivateClaimsFromScopes: only used for JWT access tokens, which this OP
// does not issue.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s *storage) Health(context.Context) error { return nil }
