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
// The callback route adjusts three of these for the provider's sake (see
// the package documentation): a malformed callback is 400, and canceled
// or timed-out work is 503 so the provider retries.
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

// callbackStatus is StatusCode as the callback route answers it: only
// statuses that mean something to a provider deciding whether to retry.
// Every non-200 answer makes Flip retry; 503 says "please do".
func callbackStatus(err error) int {
	switch st := StatusCode(err); st {
	case http.StatusUnprocessableEntity:
		// The body is not a callback this provider sends.
		return http.StatusBadRequest
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout, StatusClientClosedRequest:
		// Nothing was stored; the next delivery may well succeed.
		return http.StatusServiceUnavailable
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		return st
	default:
		return http.StatusInternalServerError
	}
}
