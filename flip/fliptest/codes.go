package fliptest

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/paylinkgo/paylink/provider"
)

// Flip's numeric error codes (flip-api.md §4), as the fake uses them.
const (
	codeUndefined       = 999  // Flip's "undefined" code
	codeRequired        = 1001 // generic: attribute must not be empty
	codeInvalid         = 1041 // generic: attribute invalid
	codeLinkIDMissing   = 1043 // "Param Bill Link ID is Not Found" in Flip's newer docs
	codeTypeRequired    = 1044
	codeTypeInvalid     = 1045
	codeMaxAmountLegacy = 1046
	codeExpiredInvalid  = 1047
	codeExpired         = 1048
	codeUsed            = 1049
	codeBillNotFound    = 1050
	codePage            = 1052
	codePagination      = 1053
	codeStartDate       = 1055
	codeEndDate         = 1056
	codeDateRange       = 1057
	codeMinAmount       = 1058
	codeRedirectURL     = 1059
	codeStatus          = 1060
	codeTitle           = 1061
	codeSortBy          = 1062
	codeSortType        = 1063
	codeAmountNumber    = 1064
	codeMaxAmount       = 1067
	codeNotEnabled      = 1091
)

func fieldErr(attr string, code int, format string, args ...any) flipFieldError {
	return flipFieldError{Attribute: attr, Code: code, Message: fmt.Sprintf(format, args...)}
}

func requiredErr(attr string) flipFieldError {
	return fieldErr(attr, codeRequired, "Param %s is required", attr)
}

func invalidErr(attr string) flipFieldError {
	return fieldErr(attr, codeInvalid, "Param %s is invalid", attr)
}

// billNotFoundErr is Flip's answer for an unknown bill on Get Bill, Edit
// Bill and Get Payment (flip-api.md §10).
func billNotFoundErr() flipFieldError {
	return fieldErr("id", codeBillNotFound, "Product Bill Link ID Not Found")
}

// simError is the Go error of a refused simulation: a *provider.Error
// whose single field error carries Flip's numeric code.
func simError(op string, code provider.ErrorCode, fe flipFieldError) error {
	return &provider.Error{
		Code:    code,
		Op:      "fliptest." + op,
		Message: fe.Message,
		Fields: []provider.FieldError{{
			Field: fe.Attribute, ProviderCode: fe.Code, Message: fe.Message,
		}},
	}
}

// writeSimError answers a /_fliptest request refused with err: 404 for an
// unknown bill or payment, Flip's 422 body otherwise.
func writeSimError(w http.ResponseWriter, err error) {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		writeJSON(w, http.StatusInternalServerError, flipStatusBody{Name: "Internal Server Error", Message: err.Error(), Status: 500})
		return
	}
	if pe.Code == provider.CodeNotFound {
		writeJSON(w, http.StatusNotFound, flipStatusBody{Name: "Not Found", Message: pe.Message, Status: http.StatusNotFound})
		return
	}
	errs := make([]flipFieldError, 0, len(pe.Fields))
	for _, f := range pe.Fields {
		errs = append(errs, flipFieldError{Attribute: f.Field, Code: f.ProviderCode, Message: f.Message})
	}
	writeValidation(w, errs)
}
