package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
)

//go:embed templates/*.html
var templateFS embed.FS

// maxOrderBody caps the body of POST /orders.
const maxOrderBody = 64 << 10

// routes mounts the shop's own routes (paylink's callback route is mounted
// by ginadapter in run).
func (s *shop) routes(r gin.IRouter) error {
	pages, err := template.New("").Funcs(template.FuncMap{"rupiah": rupiah}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	r.GET("/", s.handleIndex(pages))
	r.POST("/orders", s.handleCreateOrder)
	r.GET("/orders/:id", s.handleGetOrder)
	r.GET("/orders/:id/view", s.handleOrderPage(pages))
	return nil
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error  string                `json:"error"`
	Fields []provider.FieldError `json:"fields,omitempty"`
}

// fail answers err as JSON with the status ginadapter maps its code to.
// Server-side failures are logged and answered without their details.
func (s *shop) fail(c *gin.Context, err error) {
	status := ginadapter.StatusCode(err)
	body := errorBody{Error: err.Error(), Fields: provider.FieldErrorsOf(err)}
	if status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "shop: request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
		body = errorBody{Error: http.StatusText(status)}
	}
	c.AbortWithStatusJSON(status, body)
}

// handleCreateOrder is POST /orders: 201 with the order and its payment
// link; 415 unless the Content-Type is application/json; 400 for a body
// that is not one JSON object; 413 for a body over maxOrderBody; 422
// naming the refused fields.
//
// Requiring application/json is what keeps other sites from creating
// orders: a page elsewhere can make a browser send a text/plain or form
// POST here without asking, but a JSON one only after a CORS preflight,
// which the shop never answers.
func (s *shop) handleCreateOrder(c *gin.Context) {
	if !isJSON(c.GetHeader("Content-Type")) {
		c.AbortWithStatusJSON(http.StatusUnsupportedMediaType, errorBody{Error: "the body must be JSON, sent with Content-Type: application/json"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxOrderBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, errorBody{Error: "body too large"})
			return
		}
		c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{Error: "the body could not be read"})
		return
	}
	var req createOrderRequest
	if err := decodeOrder(body, &req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			// A JSON object with a field of the wrong type: name the field
			// as the body does, not as the Go struct does.
			f := provider.FieldError{Field: typeErr.Field, Rule: "type", Message: "must be " + jsonKind(typeErr.Type)}
			c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{
				Error: "the body must be a JSON order: " + f.Field + " " + f.Message, Fields: []provider.FieldError{f},
			})
			return
		}
		c.AbortWithStatusJSON(http.StatusBadRequest, errorBody{Error: "the body must be a JSON order: " + err.Error()})
		return
	}
	o, err := s.createOrder(c.Request.Context(), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/orders/"+strconv.FormatInt(o.ID, 10))
	c.JSON(http.StatusCreated, newOrderView(o, 0))
}

// isJSON reports whether contentType is application/json, parameters
// (a charset) allowed.
func isJSON(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && mediaType == "application/json"
}

// decodeOrder decodes body, which must be one JSON object with nothing
// but white space around it: an array, null, "{...}}" or "{...} {}" is
// refused.
func decodeOrder(body []byte, req *createOrderRequest) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errors.New("the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(req); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the body must be a single JSON object, with nothing after it")
	}
	return nil
}

// jsonKind names the JSON value a Go field of type t takes.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Struct:
		return "an object"
	}
	return "a " + t.Kind().String()
}

// orderID parses the :id parameter; anything but a positive integer is
// an unknown order.
func orderID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, provider.Errorf(provider.CodeNotFound, "shop.GetOrder", "no order %q", c.Param("id"))
	}
	return id, nil
}

// handleGetOrder is GET /orders/:id.
func (s *shop) handleGetOrder(c *gin.Context) {
	id, err := orderID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.getOrder(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, v)
}

// handleIndex is GET /: the orders and a form to make one.
func (s *shop) handleIndex(pages *template.Template) gin.HandlerFunc {
	return func(c *gin.Context) {
		orders, err := s.listOrders(c.Request.Context(), 50)
		if err != nil {
			s.log.ErrorContext(c.Request.Context(), "shop: listing orders", "err", err)
			c.String(ginadapter.StatusCode(err), "the orders could not be read")
			return
		}
		s.render(c, pages, "index.html", map[string]any{"Orders": orders, "MinAmount": minAmount})
	}
}

// handleOrderPage is GET /orders/:id/view: the customer's order page,
// where Flip sends them back after paying. It refreshes itself until the
// order leaves PENDING.
func (s *shop) handleOrderPage(pages *template.Template) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := orderID(c)
		if err == nil {
			var v *orderView
			if v, err = s.getOrder(c.Request.Context(), id); err == nil {
				s.render(c, pages, "order.html", v)
				return
			}
		}
		status := ginadapter.StatusCode(err)
		if status >= 500 {
			s.log.ErrorContext(c.Request.Context(), "shop: order page", "err", err)
		}
		c.String(status, http.StatusText(status))
	}
}

// render executes a page template into the response.
func (s *shop) render(c *gin.Context, pages *template.Template, name string, data any) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if err := pages.ExecuteTemplate(c.Writer, name, data); err != nil {
		s.log.ErrorContext(c.Request.Context(), "shop: rendering a page", "page", name, "err", err)
	}
}

// rupiah formats an amount the Indonesian way: "Rp45.000".
func rupiah(amount int64) string {
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	digits := strconv.FormatInt(amount, 10)
	out := make([]byte, 0, len(digits)+len(digits)/3)
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, '.')
		}
		out = append(out, digits[i])
	}
	return sign + "Rp" + string(out)
}
