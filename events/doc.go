// Package events defines the envelope shared by every event kpi ingests:
// ad delivery (impressions, clicks, conversions, signups, cost), billing
// (subscriptions, invoices, refunds), and what the KPI catalogue needs
// beyond those: expenses, upsells, event registrations, the sales funnel
// (leads to deals), page views, social followers and mentions, search
// rankings, logged time, project estimates and survey responses.
//
// An event is one flat JSON object whose typed fields sit at the top level.
// [Parse] decodes and validates one object sent by a producer, [SplitBatch]
// cuts a request body into such objects, and [Marshal] and [Unmarshal] carry
// a validated [Event] over the broker in canonical form. The rules are also
// published as a JSON Schema, see [Schema].
//
// Money is exact: amounts are decimal text held as [Micros], never floats;
// hours and ad positions are read the same way.
package events
