package frameworks

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sessionauth/sessionauth"
)

// Echo is the recipe for github.com/labstack/echo/v4: echo.WrapMiddleware
// adapts m.Require, which then goes on a group or a single route like any
// echo middleware. Handlers read the session from c.Request().Context().
//
// Give a protected group a prefix: echo registers a catch-all route for a
// group with middleware, so a group at "" would answer 401 instead of 404 on
// every unknown path.
func Echo(m *sessionauth.Manager) http.Handler {
	requireSession := echo.WrapMiddleware(m.Require)

	e := echo.New()
	e.GET("/healthz", echo.WrapHandler(http.HandlerFunc(healthz)))

	projects := e.Group("/projects", requireSession)
	projects.GET("/:id", func(c echo.Context) error {
		showProject(c.Response(), c.Request(), c.Param("id"))
		return nil
	})

	e.DELETE("/keys/:id", func(c echo.Context) error {
		deleteKey(c.Response(), c.Request(), c.Param("id"))
		return nil
	}, requireSession)
	return e
}
