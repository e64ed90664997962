package ginadapter

import (
	"net/http"

	"github.com/paylinkgo/paylink/provider"
)

// StatusClientClosedRequest is the non-standard status (nginx's 499) that
// [StatusCode] gives a canceled request: the client went away, so nobody
// reads the answer. The callback route answers 503 instead.
const StatusClientClosedRequest = 499

// StatusCode maps err's portable [provider.ErrorCode] to an HTTP status.
// It is the only place in paylink where error codes become statuses:
//
//	nil                    200 OK
//	CodeInvalidArgument    422 Unprocessable Entity
//	CodeNotFound           404 Not Found
//	CodeUnauthenticated    401 Unauthorized
//	CodePermissionDenied   403 Forbidden
//	CodeConflict           409 Conflict
//	CodeFailedPrecondition 409 Conflict (the request is valid, the current
//	                       state forbids it: an expired or inactive link)
//	CodeUnavailable        503 Service Unavailable
//	CodeUnimplemented      501 Not Implemented
//	CodeTooLarge           413 Content Too Large
//	CodeDeadlineExceeded   504 Gateway Timeout
//	CodeCanceled           499 (client closed request)
//	CodeUnknown, Internal  500 Internal Server Error
//
// The callback route answers only some of these: see the package
// documentation (it never answers 500).
func StatusCode(err error) int {
	if err == nil {
		return http.StatusOK
	}
	switch provider.CodeOf(err) {
	case provider.CodeInvalidArgument:
		return http.StatusUnprocessableEntity
	case provider.CodeNotFound:
		return http.StatusNotFound
	case provider.CodeUnauthenticated:
		return http.StatusUnauthorized
	case provider.CodePermissionDenied:
		return http.StatusForbidden
	case provider.CodeConflict, provider.CodeFailedPrecondition:
		return http.StatusConflict
	case provider.CodeUnavailable:
		return http.StatusServiceUnavailable
	case provider.CodeUnimplemented:
		return http.StatusNotImplemented
	case provider.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case provider.CodeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case provider.CodeCanceled:
		return StatusClientClosedRequest
	default:
		return http.StatusInternalServerError
	}
}

// callbackStatus is the status the callback route answers err with. A
// gateway reads only "retry or not" into it, and retries a 503 longest
// (Midtrans retries a 500 once, a 503 several times over hours; Flip
// retries every non-200 alike), so the route never answers 500:
//
//	nil                    200 OK
//	CodeInvalidArgument    400 Bad Request (not a callback this provider sends)
//	CodeUnauthenticated    401 Unauthorized (missing or wrong token or signature)
//	CodePermissionDenied   403 Forbidden (outside AllowedNetworks)
//	CodeTooLarge           413 Content Too Large
//	anything else          503 Service Unavailable
//
// "Anything else" is every failure after which nothing was stored: the
// database, an encoding error, an internal error, an unknown code, a
// deadline, a canceled request, a panic. The provider delivers the
// callback again, and the next delivery may well succeed. (415, for a
// wrong media type, is answered before an error exists.)
func callbackStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	switch provider.CodeOf(err) {
	case provider.CodeInvalidArgument:
		return http.StatusBadRequest
	case provider.CodeUnauthenticated:
		return http.StatusUnauthorized
	case provider.CodePermissionDenied:
		return http.StatusForbidden
	case provider.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusServiceUnavailable
	}
}
