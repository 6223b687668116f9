use crate::{Error, Notification};
use futures_util::Stream;
use std::collections::VecDeque;
use std::future::{self, Future};
use std::ops::{Deref, DerefMut};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::runtime::Runtime;
use tokio_postgres::AsyncMessage;
use tokio_postgres::error::DbError;

/// How long a failed connection is read on for the server's reason (PATCHED, pgstrata).
const REASON_GRACE: Duration = Duration::from_millis(100);

pub struct Connection {
    runtime: Runtime,
    connection: Pin<Box<dyn Stream<Item = Result<AsyncMessage, Error>> + Send>>,
    notifications: VecDeque<Notification>,
    notice_callback: Arc<dyn Fn(DbError) + Sync + Send>,
}

impl Connection {
    pub fn new<S, T>(
        runtime: Runtime,
        connection: tokio_postgres::Connection<S, T>,
        notice_callback: Arc<dyn Fn(DbError) + Sync + Send>,
    ) -> Connection
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static + Send,
        T: AsyncRead + AsyncWrite + Unpin + 'static + Send,
    {
        Connection {
            runtime,
            connection: Box::pin(ConnectionStream { connection }),
            notifications: VecDeque::new(),
            notice_callback,
        }
    }

    pub fn as_ref(&mut self) -> ConnectionRef<'_> {
        ConnectionRef { connection: self }
    }

    pub fn enter<F, T>(&self, f: F) -> T
    where
        F: FnOnce() -> T,
    {
        let _guard = self.runtime.enter();
        f()
    }

    pub fn block_on<F, T>(&mut self, future: F) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>>,
    {
        let mut future = pin!(future);
        self.poll_block_on(|cx, _, _| future.as_mut().poll(cx))
    }

    pub fn poll_block_on<F, T>(&mut self, mut f: F) -> Result<T, Error>
    where
        F: FnMut(&mut Context<'_>, &mut VecDeque<Notification>, bool) -> Poll<Result<T, Error>>,
    {
        let connection = &mut self.connection;
        let notifications = &mut self.notifications;
        let notice_callback = &mut self.notice_callback;
        // PATCHED (pgstrata, see PATCHED.md): the connection's own error, once it failed, and
        // when. A server that ends a session sends its reason (a FATAL ErrorResponse) and then
        // closes the socket; the connection routes the reason to the request in flight and then
        // reads the close. Returning the close at once, as upstream does, dropped the reason
        // whenever both arrived in one read ("connection closed"). So the request is polled
        // once more, and for a moment the connection is polled on, before the connection's own
        // error is returned.
        let mut lost: Option<(Error, Instant)> = None;
        // Set when the request completed after the loss: a finished future is never polled
        // again.
        let mut finished = false;
        self.runtime.block_on({
            future::poll_fn(|cx| {
                let done = loop {
                    match connection.as_mut().poll_next(cx) {
                        Poll::Ready(Some(Ok(AsyncMessage::Notification(notification)))) => {
                            notifications.push_back(notification);
                        }
                        Poll::Ready(Some(Ok(AsyncMessage::Notice(notice)))) => {
                            notice_callback(notice)
                        }
                        Poll::Ready(Some(Ok(_))) => {}
                        // A server error with no request waiting for it: the reason.
                        Poll::Ready(Some(Err(e))) if e.as_db_error().is_some() => {
                            return Poll::Ready(Err(e));
                        }
                        Poll::Ready(Some(Err(e))) => {
                            if lost.is_none() {
                                lost = Some((e, Instant::now()));
                            }
                            break true;
                        }
                        Poll::Ready(None) => break true,
                        Poll::Pending => break false,
                    }
                };

                if !finished {
                    let result = f(cx, notifications, done);
                    if lost.is_none() {
                        return result;
                    }
                    match result {
                        Poll::Ready(Err(e)) if e.as_db_error().is_some() => {
                            return Poll::Ready(Err(e));
                        }
                        Poll::Ready(_) => finished = true,
                        Poll::Pending => {}
                    }
                }
                match &lost {
                    Some((_, since)) if since.elapsed() < REASON_GRACE => {
                        // Let the runtime read the socket again, then come back.
                        std::thread::sleep(Duration::from_millis(2));
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    _ => Poll::Ready(Err(lost.take().map(|(e, _)| e).expect("set above"))),
                }
            })
        })
    }

    pub fn notifications(&self) -> &VecDeque<Notification> {
        &self.notifications
    }

    pub fn notifications_mut(&mut self) -> &mut VecDeque<Notification> {
        &mut self.notifications
    }
}

pub struct ConnectionRef<'a> {
    connection: &'a mut Connection,
}

// no-op impl to extend the borrow until drop
impl Drop for ConnectionRef<'_> {
    #[inline]
    fn drop(&mut self) {}
}

impl Deref for ConnectionRef<'_> {
    type Target = Connection;

    #[inline]
    fn deref(&self) -> &Connection {
        self.connection
    }
}

impl DerefMut for ConnectionRef<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Connection {
        self.connection
    }
}

struct ConnectionStream<S, T> {
    connection: tokio_postgres::Connection<S, T>,
}

impl<S, T> Stream for ConnectionStream<S, T>
where
    S: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    type Item = Result<AsyncMessage, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.connection.poll_message(cx)
    }
}
