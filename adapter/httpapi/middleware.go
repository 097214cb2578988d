package httpapi

import (
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// Context keys.
const (
	ctxRequestID = "request_id"
	ctxPrincipal = "principal"
	ctxErrorCode = "error_code"
	ctxBody      = "body"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestIDs gives every request an id: the caller's X-Request-ID when it
// is well formed, otherwise a random one. It is echoed in the response.
func requestIDs() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// accessLog logs one line per request, without patient data: at INFO
// when it was answered 4xx or 5xx, at DEBUG when it succeeded and for the
// health probes whatever their answer (issue 22: a line encoded per
// successful request cost every intake a JSON encode and a write). The
// line is built only when its level is enabled.
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		level := slog.LevelDebug
		if st := c.Writer.Status(); st >= 400 && !isProbe(c.Request.URL.Path) {
			level = slog.LevelInfo
		}
		ctx := c.Request.Context()
		if !s.log.Enabled(ctx, level) {
			return
		}
		attrs := append(logAttrs(c), "duration_ms", float64(time.Since(start).Microseconds())/1000)
		s.log.Log(ctx, level, "request", attrs...)
	}
}

func isProbe(path string) bool { return path == "/healthz" || path == "/readyz" }

// recoverer turns a panic into a 500 OperationOutcome; the panic value is
// logged, never returned.
func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.ErrorContext(c.Request.Context(), "panic", "panic", sanitizePanic(r), "request_id", requestID(c), "route", c.FullPath())
				s.abort(c, &adapter.Error{Code: adapter.EINTERNAL, Message: "internal error; quote request id " + requestID(c)})
			}
		}()
		c.Next()
	}
}

// sanitizePanic keeps only the panic's type and a bounded message.
func sanitizePanic(r any) string {
	var msg string
	switch v := r.(type) {
	case error:
		msg = v.Error()
	case string:
		msg = v
	default:
		msg = "non-error panic"
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// securityHeaders sets headers every response carries.
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		c.Next()
	}
}

// authenticate verifies the bearer token and stores the principal.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			s.abort(c, adapter.Errorf(adapter.EUNAUTHORIZED, "an Authorization: Bearer token is required"))
			return
		}
		p, err := s.Verifier.Verify(strings.TrimSpace(tok))
		if err != nil {
			s.log.InfoContext(c.Request.Context(), "token rejected", "reason", err.Error(), "request_id", requestID(c))
			s.abort(c, err)
			return
		}
		c.Set(ctxPrincipal, p)
		c.Next()
	}
}

func principalOf(c *gin.Context) *auth.Principal {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return nil
	}
	p, _ := v.(*auth.Principal)
	return p
}

// allow checks the policy for the action before the handler runs.
func (s *Server) allow(a auth.Action) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principalOf(c)
		if p == nil {
			s.abort(c, adapter.Errorf(adapter.EUNAUTHORIZED, "authentication required"))
			return
		}
		if err := p.Authorize(a); err != nil {
			s.abort(c, err)
			return
		}
		c.Next()
	}
}

// fhirJSONBody reads a request body that must be FHIR JSON within the size
// limit, answering 415 or 413 otherwise.
func (s *Server) fhirJSONBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := checkContentType(c.GetHeader("Content-Type")); err != nil {
			s.abort(c, err)
			return
		}
		body, err := readBody(c, s.cfg.MaxBodyBytes)
		if err != nil {
			s.abort(c, err)
			return
		}
		c.Set(ctxBody, body)
		c.Next()
	}
}

// jsonBody is fhirJSONBody for the adapter's own JSON API.
func (s *Server) jsonBody() gin.HandlerFunc { return s.fhirJSONBody() }

func checkContentType(ct string) error {
	if ct == "" {
		return adapter.Errorf(adapter.EUNSUPPORTEDTYPE, "Content-Type is required: application/fhir+json (or application/json)")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/fhir+json" && mt != "application/json") {
		return adapter.Errorf(adapter.EUNSUPPORTEDTYPE, "Content-Type must be application/fhir+json (or application/json)")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return adapter.Errorf(adapter.EUNSUPPORTEDTYPE, "only the utf-8 charset is supported")
	}
	if v, ok := params["fhirversion"]; ok && !strings.HasPrefix(v, "4.0") {
		return adapter.Errorf(adapter.EUNSUPPORTEDTYPE, "only FHIR R4 (fhirVersion=4.0) is supported")
	}
	return nil
}

// errBadEncoding is the read error of a gzip body that does not decode.
var errBadEncoding = adapter.Errorf(adapter.ESTRUCTURE, "the body is not valid gzip, as its Content-Encoding says")

// contentEncoding decodes a gzip request body (Content-Encoding gzip or
// x-gzip) and answers 415 for any other encoding but identity, so a body
// is never stored still encoded. Both the encoded and the decoded bytes
// are bounded by MAX_BODY_BYTES (413 above it: readBody bounds what is
// decoded, the reader here what is read off the wire).
func (s *Server) contentEncoding() gin.HandlerFunc {
	return func(c *gin.Context) {
		gz := false
		for _, v := range c.Request.Header.Values("Content-Encoding") {
			for _, enc := range strings.Split(v, ",") {
				switch enc = strings.ToLower(strings.TrimSpace(enc)); {
				case enc == "identity" || enc == "":
				case (enc == "gzip" || enc == "x-gzip") && !gz:
					gz = true
				default:
					s.abort(c, adapter.Errorf(adapter.EUNSUPPORTEDTYPE, "Content-Encoding must be identity or gzip (once)"))
					return
				}
			}
		}
		if gz && c.Request.Body != nil && c.Request.Body != http.NoBody {
			c.Request.Body = &gzipBody{raw: http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)}
		}
		c.Next()
	}
}

// gzipBody decodes a gzip request body as it is read.
type gzipBody struct {
	raw io.ReadCloser
	zr  *gzip.Reader
}

func (g *gzipBody) Read(p []byte) (int, error) {
	if g.zr == nil {
		zr, err := gzip.NewReader(g.raw)
		if err != nil {
			return 0, encodingError(err)
		}
		g.zr = zr
	}
	n, err := g.zr.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = encodingError(err)
	}
	return n, err
}

func (g *gzipBody) Close() error { return g.raw.Close() }

// encodingError keeps a size-limit error (answered 413) and reports any
// other failure to decode as errBadEncoding.
func encodingError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return errBadEncoding
}

func readBody(c *gin.Context, limit int64) ([]byte, error) {
	if c.Request.ContentLength > limit {
		return nil, adapter.Errorf(adapter.ETOOLARGE, "the body is larger than the %d byte limit", limit)
	}
	body, err := readAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit), c.Request.ContentLength)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, adapter.Errorf(adapter.ETOOLARGE, "the body is larger than the %d byte limit", limit)
	}
	if errors.Is(err, errBadEncoding) {
		return nil, errBadEncoding
	}
	if err != nil {
		return nil, adapter.Errorf(adapter.EINVALID, "could not read the request body")
	}
	if len(body) == 0 {
		return nil, adapter.Errorf(adapter.EREQUIRED, "the request body is empty")
	}
	return body, nil
}

// readAll is io.ReadAll starting with room for the declared length (and
// the read that finds the end), rather than growing from 512 bytes.
func readAll(r io.Reader, declared int64) ([]byte, error) {
	size := 512
	if declared > 0 && declared < 1<<24 {
		size = int(declared) + 1
	}
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

func bodyOf(c *gin.Context) []byte {
	b, _ := c.Get(ctxBody)
	body, _ := b.([]byte)
	return body
}

// negotiate answers 406 when the Accept header or _format rules out JSON.
func (s *Server) negotiate() gin.HandlerFunc {
	return func(c *gin.Context) {
		if f := c.Query("_format"); f != "" && !acceptsFHIRJSON(f) {
			s.abort(c, adapter.Errorf(adapter.ENOTACCEPTABLE, "only JSON is supported (_format=json)"))
			return
		}
		if a := c.GetHeader("Accept"); a != "" && !acceptsFHIRJSON(a) && !acceptsOther(c, a) {
			s.abort(c, adapter.Errorf(adapter.ENOTACCEPTABLE, "only FHIR R4 (fhirVersion 4.0) as application/fhir+json is produced"))
			return
		}
		c.Next()
	}
}

// acceptsFHIRJSON: one of accept's media types is FHIR JSON, and not of
// another FHIR version (a fhirVersion parameter other than 4.0: FHIR's
// versioning.html#mt-version has the server answer 406).
func acceptsFHIRJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			mt = strings.TrimSpace(part)
		}
		if v, ok := params["fhirversion"]; ok && v != "4.0" && !strings.HasPrefix(v, "4.0.") {
			continue
		}
		switch mt {
		case "application/fhir+json", "application/json", "json", "*/*", "application/*", "application/json+fhir":
			return true
		}
	}
	return false
}

// acceptsOther lets routes that produce other formats (CSV reports, the
// dashboard) handle their own negotiation.
func acceptsOther(c *gin.Context, accept string) bool {
	return strings.Contains(accept, "text/csv") || strings.Contains(accept, "text/html")
}

// wellFormedQuery refuses a query string Go's parser would read only in
// part: a pair holding ';' (no longer a separator) or a bad %-escape is
// dropped by url.Query without a word, so a filter the client gave
// (status=rejected;x) would silently vanish and the search answer more.
func (s *Server) wellFormedQuery() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, err := url.ParseQuery(c.Request.URL.RawQuery); err != nil {
			s.abort(c, adapter.Errorf(adapter.EINVALID, "the query string is malformed: a ';' or a bad %%-escape; separate parameters with '&' and escape ';' as %%3B"))
			return
		}
		c.Next()
	}
}

// MaxRequestHeaderBytes bounds a request's line and headers. The HTTP
// server reads up to far more (cmd/referral-adapter: MaxHeaderBytes), so
// that a request over this bound is answered here, as an
// OperationOutcome, rather than by the server's plain-text 431.
const MaxRequestHeaderBytes = 32 << 10

// headerLimit refuses a request whose line and headers (a 100,000
// character id, an outsized Authorization header) exceed
// MaxRequestHeaderBytes, before anything else reads them.
func headerLimit(s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		n := len(c.Request.Method) + len(c.Request.RequestURI) + len(c.Request.Proto) + 4
		for k, vs := range c.Request.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > MaxRequestHeaderBytes {
			s.abort(c, adapter.Errorf(adapter.EHEADERSTOOLARGE, "the request line and headers are longer than %d bytes", MaxRequestHeaderBytes))
			return
		}
		c.Next()
	}
}
