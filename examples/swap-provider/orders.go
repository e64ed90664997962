package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
)

// Order is one of the shop's orders.
type Order struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Amount   int64  `json:"amount"`
	Status   string `json:"status"` // PENDING, then PAID
	Provider string `json:"provider"`
	LinkID   string `json:"link_id"`
	LinkURL  string `json:"link_url"`
}

// shop is the app. It knows a provider.Service and the name of the
// provider to use, and nothing about any gateway.
type shop struct {
	svc      *provider.Service
	provider string

	mu     sync.Mutex
	nextID int64
	orders map[int64]*Order
	byLink map[string]*Order // by provider link id
}

func newShop(svc *provider.Service, providerName string) *shop {
	return &shop{svc: svc, provider: providerName, orders: map[int64]*Order{}, byLink: map[string]*Order{}}
}

// createOrder serves POST /orders: a new order and its payment link.
func (s *shop) createOrder(c *gin.Context) {
	var req struct {
		Title  string `json:"title" binding:"required,max=100"`
		Amount int64  `json:"amount" binding:"required,min=10000"`
	}
	if err := c.ShouldBindJSON(&req); err != nil {
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": err.Error()})
		return
	}
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()

	link, err := s.svc.CreateLink(c.Request.Context(), s.provider, provider.CreateLinkParams{
		Title:          req.Title,
		Amount:         provider.Rupiah(req.Amount),
		IdempotencyKey: fmt.Sprintf("order-%d", id),
	})
	if err != nil {
		c.AbortWithStatusJSON(ginadapter.StatusCode(err), gin.H{"error": err.Error()})
		return
	}
	o := Order{ID: id, Title: req.Title, Amount: req.Amount, Status: "PENDING",
		Provider: link.Provider, LinkID: link.ID, LinkURL: link.URL}
	stored := o // the hook changes the stored copy; o is the answer
	s.mu.Lock()
	s.orders[id], s.byLink[link.ID] = &stored, &stored
	s.mu.Unlock()
	c.JSON(http.StatusCreated, o)
}

// getOrder serves GET /orders/:id.
func (s *shop) getOrder(c *gin.Context) {
	o, ok := s.order(c.Param("id"))
	if !ok {
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "no such order"})
		return
	}
	c.JSON(http.StatusOK, o)
}

// order returns a copy of the order with the given id.
func (s *shop) order(id string) (Order, bool) {
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[n]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// markPaid is the hook for PaymentSuccessful. It is idempotent, so a retry is
// harmless; an unknown link is an error, so paylink retries it.
func (s *shop) markPaid(_ context.Context, ev *provider.HookEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.byLink[ev.Link.ID]
	if !ok || o.Provider != ev.Link.Provider {
		return fmt.Errorf("no order for %s link %s", ev.Link.Provider, ev.Link.ID)
	}
	o.Status = "PAID"
	return nil
}
