package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/capacity"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
	"github.com/social-prescribing/referral-adapter/adapter/intake"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// Config is the HTTP server's environment configuration.
type Config struct {
	Addr            string        `env:"ADDR, default=:8080"`
	MaxBodyBytes    int64         `env:"MAX_BODY_BYTES, default=1048576"`
	RequestTimeout  time.Duration `env:"REQUEST_TIMEOUT, default=10s"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT, default=20s"`
	BaseURL         string        `env:"BASE_URL"`                            // public FHIR base, e.g. https://sp.example.nhs.uk/fhir
	MetricsAddr     string        `env:"METRICS_ADDR, default=:9090"`         // Prometheus /metrics; "off" disables
	RateLimit       int           `env:"RATE_LIMIT_PER_MINUTE, default=1200"` // per token subject; 0 disables
	Pprof           bool          `env:"PPROF, default=false"`                // Go profiles at /debug/pprof/ on the metrics listener
}

// Verifier checks bearer tokens.
type Verifier interface {
	Verify(token string) (*auth.Principal, error)
}

// Intake creates referrals, consents and transactions.
type Intake interface {
	CreateServiceRequest(ctx context.Context, c intake.Caller, body []byte, cond adapter.Identifier) (*intake.Result, error)
	CreateConsent(ctx context.Context, c intake.Caller, body []byte, cond adapter.Identifier) (*intake.Result, error)
	CreatePatient(ctx context.Context, c intake.Caller, body []byte, cond adapter.Identifier) (*intake.Result, error)
	Transact(ctx context.Context, c intake.Caller, entries []intake.Entry) ([]*intake.Result, error)
	// SignOff confirms a referral held for a clinician's sign-off (issue 11).
	SignOff(ctx context.Context, c intake.Caller, id string) (*adapter.Task, error)
}

// Store is what the read handlers need.
type Store interface {
	ServiceRequest(ctx context.Context, id string) ([]byte, error)
	Consent(ctx context.Context, id string) ([]byte, string, error)
	Task(ctx context.Context, id string) (*adapter.Task, error)
	TasksForReferral(ctx context.Context, srID string) ([]*adapter.Task, error)
	FindExisting(ctx context.Context, practice string, keys []adapter.IdemKey) ([]string, error)
	// ReferralsByIdentifier finds referrals by business identifier, across
	// practices (for link workers and providers, who see only some).
	ReferralsByIdentifier(ctx context.Context, value string) ([]string, error)
	ChangedTasks(ctx context.Context, since time.Time, limit int64) ([]*adapter.Task, error)
	// TasksByCreation pages through every Task in creation order.
	TasksByCreation(ctx context.Context, created time.Time, id string, backwards bool, n int) ([]*adapter.Task, bool, error)
}

// Access is the access policy (adapter/access): whether a caller may see a
// referral's Task and the referral it tracks.
type Access interface {
	SeeTask(ctx context.Context, c adapter.Caller, t *adapter.Task) (bool, error)
	// Candidate is a cheap necessary condition of SeeTask, for searches.
	Candidate(c adapter.Caller, t *adapter.Task) bool
}

// Capacity reads and updates the directory's live capacity (issue 3).
type Capacity interface {
	Get(ctx context.Context, id string) (capacity.View, error)
	Directory(ctx context.Context) (map[string]capacity.View, error)
	Update(ctx context.Context, id string, u capacity.Update, ch adapter.CapacityChange) (*capacity.UpdateResult, error)
}

// Deps are the server's collaborators.
type Deps struct {
	Log      *slog.Logger
	Verifier Verifier
	Intake   Intake
	Store    Store
	Mappings *routing.Mappings
	Parser   *fhir.Parser
	Render   *fhir.Renderer
	// Audit records access to patient data; Limiter applies per-client
	// rate limits. Either may be nil (tests of unrelated behaviour).
	Audit   Auditor
	Limiter RateLimiter
	// Tokens is the SMART Backend Services token server; nil when disabled.
	Tokens   *auth.TokenServer
	Capacity Capacity // nil: the directory shows no capacity status
	// Queue, Outcomes and Disclosure are the referral lifecycle (issue 10)
	// and the consent check on outcomes (issue 4; nil: approval alone).
	Queue      Queue
	Outcomes   Outcomes
	Disclosure Disclosure
	// Access is the access policy every read and search asks.
	Access  Access
	Reports Reports // issue 8; nil: no report routes
	// Ready reports whether the service can take traffic (Redis reachable).
	Ready func(ctx context.Context) error
	// Subscriptions manages EHR notification Subscriptions; nil disables
	// the Subscription and dead-letter routes.
	Subscriptions Subscriptions
	// Dialogue is the messages and safeguarding Flags on a referral
	// (issue 9); nil disables their routes.
	Dialogue Dialogue
	// Patients reads stored Patients (issue 19); nil disables the Patient
	// routes and the claim's patient.
	Patients Patients
}

// Server is the HTTP API.
type Server struct {
	Deps
	cfg    Config
	log    *slog.Logger
	render *fhir.Renderer
	engine *gin.Engine
	now    func() time.Time
	// capabilityStatement is this deployment's (metadata.go).
	capabilityStatement []byte
	table               []Route
}

// New builds the server and its routes.
func New(cfg Config, d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{Deps: d, cfg: cfg, log: d.Log, render: d.Render, now: time.Now}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(requestIDs(), metrics(), s.accessLog(), s.recoverer(), securityHeaders(), headerLimit(s), s.wellFormedQuery(), s.timeout(), s.contentEncoding())
	e.NoRoute(func(c *gin.Context) {
		if t, ok := s.readOnlyType(c.Request.URL.Path); ok {
			// A type served here only by id (Goal, ...): its type-level
			// URL exists, and no method is allowed on it.
			c.Writer.Header()["Allow"] = []string{""} // gin's c.Header drops an empty value
			s.writeError(c, adapter.Errorf(adapter.EMETHOD, "%s is read here by id (GET /fhir/%s/{id}); it is neither searched nor created", t, t))
			return
		}
		s.writeError(c, adapter.Errorf(adapter.ENOTFOUND, "no such endpoint"))
	})
	e.NoMethod(func(c *gin.Context) {
		err := adapter.Errorf(adapter.EMETHOD, "method %s is not allowed here", c.Request.Method)
		if c.Request.Method == http.MethodPost && c.Request.URL.Path == "/fhir/Task" {
			err = adapter.Errorf(adapter.EMETHOD, "Tasks are not created by POST here: %s", fhir.TaskCreatedHere)
		}
		s.writeError(c, err)
	})
	s.engine = e
	s.capabilityStatement = s.capability()
	s.routes()
	return s
}

// Handler returns the http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

// timeout bounds each request's context, so a slow store answers 503
// within the deadline instead of holding the connection.
func (s *Server) timeout() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

func (s *Server) routes() {
	e := s.engine
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	if s.Tokens != nil {
		e.POST("/auth/token", s.token)
		e.GET("/.well-known/smart-configuration", s.smartConfiguration)
		e.GET("/fhir/.well-known/smart-configuration", s.smartConfiguration)
		e.GET("/.well-known/jwks.json", s.jwks)
	}

	f := e.Group("/fhir", s.negotiate())
	f.GET("/metadata", s.metadata)

	a := f.Group("", s.authenticate(), s.rateLimit(), s.audit())
	s.route(a, "POST", "/fhir", auth.TransactionPost, s.unconditional("a transaction (give each entry its request.ifNoneExist)"), s.fhirJSONBody(), s.transaction)
	s.route(a, "POST", "/fhir/ServiceRequest", auth.ServiceRequestCreate, s.fhirJSONBody(), s.createServiceRequest)
	s.route(a, "GET", "/fhir/ServiceRequest/:id", auth.ServiceRequestRead, s.readServiceRequest)
	s.route(a, "GET", "/fhir/ServiceRequest/:id/_history/:vid", auth.ServiceRequestRead, s.readServiceRequest)
	s.route(a, "GET", "/fhir/ServiceRequest", auth.ServiceRequestSearch, s.searchServiceRequest)
	s.route(a, "POST", "/fhir/Consent", auth.ConsentCreate, s.fhirJSONBody(), s.createConsent)
	s.route(a, "GET", "/fhir/Consent/:id", auth.ConsentRead, s.readConsent)
	s.route(a, "GET", "/fhir/Consent/:id/_history/:vid", auth.ConsentRead, s.readConsent)
	s.route(a, "GET", "/fhir/Task/:id", auth.TaskRead, s.readTask)
	s.route(a, "GET", "/fhir/Task/:id/_history/:vid", auth.TaskRead, s.readTask)
	if s.Queue != nil {
		s.route(a, "PUT", "/fhir/Task/:id", auth.TaskTransition, s.fhirJSONBody(), s.updateTask)
	}
	s.route(a, "GET", "/fhir/Task", auth.TaskSearch, s.searchTask)
	s.route(a, "GET", "/fhir/AuditEvent", auth.AuditRead, s.searchAuditEvent)
	s.route(a, "GET", "/fhir/HealthcareService", auth.DirectoryRead, s.searchHealthcareService)
	s.route(a, "GET", "/fhir/HealthcareService/:id", auth.DirectoryRead, s.readHealthcareService)
	if s.Patients != nil {
		s.route(a, "POST", "/fhir/Patient", auth.PatientCreate, s.fhirJSONBody(), s.createPatient)
		s.route(a, "GET", "/fhir/Patient/:id", auth.PatientRead, s.readPatient)
		s.route(a, "PUT", "/fhir/Patient/:id", auth.PatientUpdate, s.fhirJSONBody(), s.updatePatient)
		s.route(a, "GET", "/fhir/Patient/:id/_history/:vid", auth.PatientRead, s.readPatient)
	}

	// Capacity (issue 3): the adapter's own JSON API; errors are still
	// OperationOutcomes.
	api := e.Group("/api/v1", s.authenticate(), s.rateLimit(), s.audit())
	s.route(api, "GET", "/api/v1/services/:id/capacity", auth.CapacityRead, s.getCapacity)
	s.route(api, "PUT", "/api/v1/services/:id/capacity", auth.CapacityUpdate, s.jsonBody(), s.putCapacity)

	// Clinician sign-off (issue 11).
	s.route(api, "POST", "/api/v1/referrals/:id/sign-off", auth.ReferralSignOff, s.signOff)

	// Queue and lifecycle (issue 10).
	if s.Queue != nil {
		s.route(api, "POST", "/api/v1/queues/:queue/claim", auth.QueueClaim, s.claim)
		s.route(api, "GET", "/api/v1/queues/:queue", auth.QueueRead, s.listQueue)
		s.route(api, "POST", "/api/v1/referrals/:id/lease", auth.LeaseRenew, s.renewLease)
		s.route(api, "POST", "/api/v1/referrals/:id/transition", auth.TaskTransition, s.jsonBody(), s.transition)
		s.route(api, "POST", "/api/v1/referrals/:id/handover", auth.Handover, s.handover)
		s.route(api, "POST", "/api/v1/referrals/:id/refer-on", auth.ReferOn, s.jsonBody(), s.referOn)
		s.route(api, "POST", "/api/v1/referrals/:id/outcomes", auth.OutcomeCreate, s.jsonBody(), s.recordOutcome)
		s.route(api, "POST", "/api/v1/referrals/:id/contact-attempts", auth.ContactAttemptCreate, s.jsonBody(), s.recordContactAttempt)
		s.route(api, "GET", "/api/v1/referrals/:id/contact-attempts", auth.ContactAttemptRead, s.listContactAttempts)
		s.route(a, "GET", "/fhir/Observation/:id", auth.ObservationRead, s.readOutcome("Observation"))
		s.route(a, "GET", "/fhir/Observation/:id/_history/:vid", auth.ObservationRead, s.readOutcome("Observation"))
		s.route(a, "GET", "/fhir/Observation", auth.ObservationSearch, s.searchOutcomes("Observation"))
		s.route(a, "GET", "/fhir/Procedure", auth.ProcedureSearch, s.searchOutcomes("Procedure"))
		s.route(a, "GET", "/fhir/Procedure/:id", auth.ProcedureRead, s.readOutcome("Procedure"))
		s.route(a, "GET", "/fhir/Procedure/:id/_history/:vid", auth.ProcedureRead, s.readOutcome("Procedure"))
		s.route(a, "GET", "/fhir/Goal/:id", auth.GoalRead, s.readOutcome("Goal"))
		s.route(a, "GET", "/fhir/Goal/:id/_history/:vid", auth.GoalRead, s.readOutcome("Goal"))
	}

	// Dialogue and safeguarding (issue 9): Communication and Flag.
	if s.Dialogue != nil {
		s.route(a, "POST", "/fhir/Communication", auth.CommunicationCreate, s.unconditional("Communication"), s.fhirJSONBody(), s.createCommunication)
		s.route(a, "GET", "/fhir/Communication/:id", auth.CommunicationRead, s.readCommunication)
		s.route(a, "GET", "/fhir/Communication/:id/_history/:vid", auth.CommunicationRead, s.readCommunication)
		s.route(a, "GET", "/fhir/Communication", auth.CommunicationSearch, s.searchCommunication)
		s.route(a, "POST", "/fhir/Flag", auth.FlagCreate, s.unconditional("Flag"), s.fhirJSONBody(), s.createFlag)
		s.route(a, "GET", "/fhir/Flag/:id", auth.FlagRead, s.readFlag)
		s.route(a, "GET", "/fhir/Flag/:id/_history/:vid", auth.FlagRead, s.readFlag)
		s.route(a, "GET", "/fhir/Flag", auth.FlagSearch, s.searchFlag)
	}

	// Reports (issue 8): aggregates only, small counts suppressed.
	if s.Reports != nil {
		s.route(api, "GET", "/api/v1/reports/capacity", auth.ReportCapacity, s.capacityReport)
		s.route(api, "GET", "/api/v1/reports/practice", auth.ReportPractice, s.practiceReport)
		s.route(a, "GET", "/fhir/MeasureReport", auth.MeasureReportSearch, s.searchMeasureReport)

		// The commissioners' dashboard: the same report as a page, and its
		// CSV download under the same authentication.
		d := e.Group("/dashboard", s.authenticate(), s.rateLimit(), s.audit())
		s.route(d, "GET", "/dashboard", auth.DashboardView, s.dashboardPage)
		s.route(d, "GET", "/dashboard/report.csv", auth.ReportCapacity, s.dashboardCSV)
	}

	// EHR notifications (issue 6): R4 Subscriptions (rest-hook, id-only)
	// and the admins' view of notifications given up on.
	if s.Subscriptions != nil {
		s.route(a, "POST", "/fhir/Subscription", auth.SubscriptionCreate, s.unconditional("Subscription"), s.fhirJSONBody(), s.createSubscription)
		s.route(a, "GET", "/fhir/Subscription/:id", auth.SubscriptionRead, s.readSubscription)
		s.route(a, "DELETE", "/fhir/Subscription/:id", auth.SubscriptionDelete, s.deleteSubscription)
		s.route(api, "GET", "/api/v1/admin/notifications/dead-letter", auth.NotificationDeadLetters, s.deadLetters)
	}
}

// Route is one authenticated endpoint and the policy action that guards it.
type Route struct {
	Method, Path string
	Action       auth.Action
}

// route registers an authenticated endpoint guarded by action (checked by
// the policy table before the handler runs) and records it, so the
// authorisation matrix can be tested route by route.
func (s *Server) route(g *gin.RouterGroup, method, fullPath string, action auth.Action, h ...gin.HandlerFunc) {
	rel := strings.TrimPrefix(fullPath, g.BasePath())
	g.Handle(method, rel, append([]gin.HandlerFunc{s.allow(action)}, h...)...)
	s.table = append(s.table, Route{Method: method, Path: fullPath, Action: action})
}

// readOnlyType reports whether path is /fhir/{type} of a resource type the
// server has routes for only below it (read by id).
func (s *Server) readOnlyType(path string) (string, bool) {
	t, ok := strings.CutPrefix(path, "/fhir/")
	if !ok || t == "" || strings.Contains(t, "/") {
		return "", false
	}
	for _, r := range s.table {
		if strings.HasPrefix(r.Path, "/fhir/"+t+"/") {
			return t, true
		}
	}
	return "", false
}

// Routes lists every authenticated endpoint with its action.
func (s *Server) Routes() []Route { return slices.Clone(s.table) }

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	if s.Ready != nil {
		if err := s.Ready(c.Request.Context()); err != nil {
			c.Header("Retry-After", "5")
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "store unreachable"})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// Validate reports configuration problems.
func (c *Config) Validate() []error {
	var errs []error
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("http: MAX_BODY_BYTES must be at least 1024"))
	}
	if c.RequestTimeout <= 0 || c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("http: REQUEST_TIMEOUT and SHUTDOWN_TIMEOUT must be positive"))
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		errs = append(errs, errors.New("http: BASE_URL must be an absolute http(s) URL"))
	}
	return errs
}
