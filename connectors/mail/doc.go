// Package mailconn is the mail connector: an IMAP source and an SMTP sink.
//
// The source reads the mails of one mailbox whose UID is above the last one it took, in UID
// order, and hands each to the hub as one message: the raw RFC 5322 mail, or a JSON object with
// its headers, text and attachments (format). Its id is derived from the connector, the
// mailbox's UIDVALIDITY and the mail's UID. Only once the hub has stored a batch does the source
// mark its mails \Seen (or move them) and remember the last UID in the hub's store: a stop in
// between reads them again under the same ids, which the routes' idempotency drops, and a
// restart goes on after the remembered UID, so no mail is taken twice or skipped. When the
// mailbox's UIDVALIDITY changes the UIDs mean something else: the source then starts over, as on
// its first start, with the mails not yet \Seen (after: seen) or all that are left (after: move),
// and passes over those read before.
//
// MIME parsing is bounded: max_size for the mail, max_parts and max_depth for its structure. A
// mail over max_size is flagged and left; one that cannot be read into JSON goes on as the raw
// mail (message/rfc822) with the reason in the metadata mail_parse_error.
//
// The sink sends each message as one mail over STARTTLS (required, by default) or implicit TLS,
// authenticating with PLAIN or LOGIN only over TLS. A 5xx answer is a permanent failure, a 4xx
// answer or a broken connection is retried. Addresses and subjects are personal data: logs show
// them masked.
package mailconn
