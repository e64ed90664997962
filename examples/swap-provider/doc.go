// Command swap-provider runs the same shop handlers and hooks on two
// payment gateways, chosen at startup:
//
//	PAYMENT_PROVIDER=flip   go run ./examples/swap-provider   # Flip (the in-process fake)
//	PAYMENT_PROVIDER=memory go run ./examples/swap-provider   # the in-memory provider
//
// The shop (orders.go) knows only a *provider.Service and the name of the
// provider to use: it creates links with svc.CreateLink and marks orders
// paid from a hook on PaymentSuccessful. Which gateway sits behind the name, how
// its callbacks are encoded (Flip: a form with a token field; the memory
// provider: JSON with a token header) and how they are verified is decided
// once, in newGateway, and handled by the provider and ginadapter.
//
// Routes:
//
//	POST /orders                   {"title": "...", "amount": 45000} → 201 order
//	GET  /orders/:id               the order: PENDING until paid, then PAID
//	POST /payments/callback        the gateway's callbacks (ginadapter)
//	POST /sandbox/orders/:id/pay   plays the customer paying at the gateway
//
// The sandbox route is not part of the shop: it stands for the customer on
// the gateway's checkout page, so the flow can be run with curl. Payments
// are kept in memory (providertest.MemStore); see examples/mount-existing
// for gormstore. Environment: PAYMENT_PROVIDER (flip, the default, or
// memory), ADDR (default 127.0.0.1:8080).
package main
