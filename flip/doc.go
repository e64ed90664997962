// Package flip is a client for Flip for Business' Accept Payment API (v2:
// bills, also called payment links, and their payments), a
// [provider.Provider] built on it, and verification of Flip's callbacks.
//
// # Environments
//
// Flip runs two separate environments with separate secret keys and
// callback tokens: [Sandbox] (the default, [SandboxBaseURL]) and
// [Production] ([ProductionBaseURL]). [Options.BaseURL] points the client
// at any Flip-compatible server instead, such as the in-process fake in
// package fliptest; it is the part of the URL before "/v2".
//
//	c, err := flip.NewClient(secretKey, flip.Options{Environment: flip.Production})
//
// A [Client] is safe for concurrent use and holds no package-level state,
// so two accounts can live side by side in one process.
//
// # Authentication
//
// Every request carries "Authorization: Basic base64(secretKey + ":")", as
// Flip requires. The secret key never appears in a URL, a log line or an
// error string: errors are scrubbed, [Client.String] omits it, and the
// client logs only method, path, status and duration through the injected
// [log/slog.Logger]. Redirects are followed only within the origin
// (scheme, host and port) of the request, so the header never leaves it.
//
// # Requests and validation
//
// There is one method per v2 endpoint: [Client.CreateBill],
// [Client.EditBill], [Client.GetBill], [Client.ListBills],
// [Client.ListBillPayments], [Client.ListPayments],
// [Client.ConfirmBillPayment] and [Client.IsMaintenance]. Bodies are
// form-encoded as Flip expects. Parameters are checked before anything is
// sent, with Flip's own rules (for example: amount, sender_name and
// sender_email are required from step 2 on; sender_bank and
// sender_bank_type at step 3; step 3 links are SINGLE). A refused parameter
// gives a *[provider.Error] with [provider.CodeInvalidArgument] whose
// field errors use Flip's parameter names ("sender_email", rule
// "required").
//
// Every request carries "Content-Type: application/x-www-form-urlencoded",
// GETs included, as Flip requires. sender_bank_type is checked for its
// shape only (Flip enables new kinds per merchant); parameters Flip
// accepts beyond the typed ones go in CreateBillParams.Extra.
//
// # Reading Flip's answers
//
// Flip is looser than its docs: the string "null" for a missing value,
// numbers as strings and strings as numbers, amounts as "45000.00",
// timestamps in several formats. Bills, payments and pages are decoded
// field by field: a field that cannot be read is left at its zero value
// and listed in Problems ([FieldProblem]); the other fields and the raw
// JSON (Raw) are kept, so one odd field never fails a bill or a page.
// Amounts are read exactly: a fraction of a rupiah is a problem, never
// rounded ([ErrFractionalAmount]). Flip's zone-less timestamps are in
// Western Indonesia Time; [Timestamp] reads them in [Location]
// (Asia/Jakarta). docs/flip-tolerances.md lists every tolerance and the
// Flip fact it rests on.
//
// # Errors
//
// Every error carries a portable [provider.ErrorCode], so
// errors.Is(err, provider.CodeNotFound) works whatever went wrong. When Flip
// answers with an error, the error is an *[APIError] holding the HTTP
// status, Flip's code, message and field errors; both of Flip's error body
// shapes are understood, and a non-JSON body (a gateway's HTML page) still
// gives an *APIError. Use errors.As to reach it:
//
//	var apiErr *flip.APIError
//	if errors.As(err, &apiErr) { log.Println(apiErr.StatusCode, apiErr.Errors) }
//
// # Retries
//
// Reads (GET requests, including the maintenance check) are retried on
// network errors, 429 and 5xx answers, up to [Options.MaxRetries] times with
// exponential backoff and jitter, and never past the context's deadline.
// Writes (create, edit, confirm) are never retried once a request may have
// reached Flip: a retried create could make a second bill. The caller
// decides, typically with an idempotency key kept in its own store:
// provider.Service.CreateLink records the key before the request and,
// when a request's answer was lost, finds the bill again through
// [Provider.FindLinks] (Get All Bills) rather than make a second one.
//
// # Callbacks
//
// Flip reports payments by POSTing a form with two fields: data (a JSON
// object) and token (the validation token from Flip's dashboard). There is
// no signature; the token is the only proof of origin. [ParseCallback]
// caps the body, parses the form once (the body stays readable for later
// handlers), compares the token in constant time, and refuses everything
// when no token is configured. Its failures match the sentinel errors
// ([ErrTokenNotConfigured], [ErrMissingToken], [ErrInvalidToken],
// [ErrMalformedCallback], [ErrCallbackTooLarge]) and portable codes.
// [NewCallbackRequest] and [CallbackForm] build valid callbacks for tests.
//
// Callbacks are read generously, because a refused one is lost after
// Flip's five retries: any status is kept as sent (see
// [Callback.PaymentStatus]), ids may be numbers or strings, amounts whole
// decimals, and a body written as Flip's sample curl writes it, with
// nothing URL-encoded, is read as sent. During a token rotation,
// [CallbackVerifier] accepts the previous token too and reports which one
// matched (docs/callbacks-and-security.md has the steps).
//
// # Provider
//
// [NewProvider] wraps a Client as a [provider.Provider] (plus link editing,
// deactivation, payment listing, reading one payment and a callback
// configuration check). Its ParseCallback gives an event whose
// Payment.Status is empty for a status outside the table, with Flip's
// string in Payment.RawStatus, so that the service can record and flag it
// instead of refusing it. [MapPaymentStatus] and [StatusMappings] are the
// one table from Flip's status strings to portable statuses.
//
// Flip's token is a static secret sent in every callback, so it is
// dropped at parse time: the event's Raw is the body as received with the
// token field removed (not masked; [RedactToken]), and nothing else in
// the event holds it, so nothing downstream (callback records, the
// console, hooks) can store it. [Provider.DecodeCallback] decodes such a
// stored body without a token, to reprocess it; [Provider.RedactCallback]
// still cuts the token from bodies stored before it was dropped.
//
// # What confirming a callback costs
//
// provider.Service confirms each callback with Flip's API before applying
// it. Flip has no endpoint for one payment, so [Provider.GetPayment] reads
// Get Payment of the bill newest first (sort_by=created_at,
// sort_type=sort_desc) and stops at the first page holding the payment.
// The payment a callback reports is nearly always among the newest, so
// confirming it costs one request, however many payments a MULTIPLE bill
// has; a payment k places back costs k/PageSize+1 requests (PageSize is
// [ProviderOptions].PageSize, or Flip's default). A payment the bill does
// not show costs every page, as [Provider.ListLinkPayments] does, and is
// provider.CodeNotFound; a bill without payments costs one request, or two
// when Flip answers it as an unknown bill (Get Bill tells them apart).
package flip
