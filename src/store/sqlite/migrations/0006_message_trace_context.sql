-- The W3C traceparent of the span that published the message (null when
-- tracing is off): each attempt's span is its child, and the receiver gets the
-- attempt's own traceparent, so the producer's trace continues across the queue.
ALTER TABLE messages ADD COLUMN trace_context TEXT;
