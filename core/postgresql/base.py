"""Django's PostgreSQL backend, with a health check that costs no round trip.

Django checks a persistent connection before a request reuses it (CONN_HEALTH_CHECKS)
by running `SELECT 1`: a round trip on every request, about a twelfth of a request by
primary key here (docs/PERFORMANCE.md). A connection the server or the network closed
while it sat idle has something to read: the server's goodbye, an EOF, a reset. An
idle connection that is still good has nothing. So the check asks the socket, without
waiting; a readable idle connection is closed and Django opens a new one. The rare
harmless message (a setting's new value after a reload) costs one reconnect, never an
error. A network that drops packets silently is caught by neither check at reuse; the
connect timeout and gunicorn's timeout bound it, as before.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

_USABLE_STATES = (TransactionStatus.IDLE, TransactionStatus.INTRANS)
CAN_POLL = hasattr(select, "poll")  # not on Windows


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status not in _USABLE_STATES:
            return False
        if not CAN_POLL:
            return super().is_usable()  # Django's own check, a round trip
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
        # Any event on an idle connection (data, hang-up, error) means it is not fit for use.
        return not poller.poll(0)
