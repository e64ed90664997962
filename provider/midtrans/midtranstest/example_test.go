package midtranstest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// A test creates a Snap transaction on the fake, sees that the status API
// does not know it until the customer picks a method, pays it and reads
// the settled transaction.
func Example() {
	ctx := context.Background()
	fake := midtranstest.NewServer(midtranstest.Options{ServerKey: "SB-Mid-server-test"})
	defer fake.Close()
	c := fake.Client()

	snap, err := c.CreateTransaction(ctx, midtrans.CreateTransactionParams{OrderID: "order-7", GrossAmount: 25000})
	if err != nil {
		panic(err)
	}
	fmt.Println(snap.RedirectURL == fake.PageURL(snap.Token))

	_, err = c.GetStatus(ctx, "order-7")
	fmt.Println(errors.Is(err, provider.CodeNotFound))

	if _, err := fake.Pay(ctx, "order-7", midtranstest.PayOptions{Method: midtranstest.Method{Bank: "bni"}}); err != nil {
		panic(err)
	}
	tx, err := c.GetStatus(ctx, "order-7")
	if err != nil {
		panic(err)
	}
	amount, _ := tx.Amount()
	fmt.Println(tx.TransactionStatus, tx.StatusCode, tx.GrossAmount, amount, tx.VANumbers[0].Bank)
	fmt.Println(midtrans.VerifySignature(tx, "SB-Mid-server-test"))
	// Output:
	// true
	// true
	// settlement 200 25000.00 25000 bni
	// <nil>
}
