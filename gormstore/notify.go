package gormstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// riverInsertTopic is River's notification topic for new jobs (River's
// notifier.NotificationTopicInsert, internal to River).
const riverInsertTopic = "river_insert"

// notifyInsert tells River's listeners on every replica that the hook
// queue has new jobs, delivered when sqlTx commits. River sends this
// notification itself, but rate-limits it per queue (one per fetch
// cooldown, 100 ms when unset); a hook enqueued inside that window then
// waited for the next poll (FetchPollInterval, 500 ms by default) instead
// of starting at once. One NOTIFY per callback transaction is cheap, and
// PostgreSQL folds identical notifications of one transaction into one.
// SQLite has no LISTEN/NOTIFY: River polls there.
func (s *Store) notifyInsert(ctx context.Context, sqlTx *sql.Tx) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	var driver *riverdatabasesql.Driver // UnwrapExecutor needs no pool
	return driver.UnwrapExecutor(sqlTx).NotifyMany(ctx, &riverdriver.NotifyManyParams{
		Topic:   riverInsertTopic,
		Payload: []string{fmt.Sprintf("{\"queue\": %q}", s.opts.Queue)},
	})
}
