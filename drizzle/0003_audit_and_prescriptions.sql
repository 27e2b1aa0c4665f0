CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_id" uuid,
	"actor_role" text,
	"action" text NOT NULL,
	"consultation_id" uuid,
	"patient_id" uuid,
	"outcome" text NOT NULL,
	"request_id" text,
	"client_ip" text,
	CONSTRAINT "audit_events_outcome_check" CHECK ("audit_events"."outcome" IN ('allowed', 'denied', 'error'))
);
--> statement-breakpoint
CREATE TABLE "prescription_requests" (
	"doctor_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"prescription_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prescription_requests_key" UNIQUE("doctor_id","idempotency_key")
);
--> statement-breakpoint
CREATE INDEX "audit_events_consultation_idx" ON "audit_events" USING btree ("consultation_id","id");--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "audit_events" USING btree ("actor_id","id");--> statement-breakpoint
-- Append-only in the database itself: whatever connects, audit rows cannot be changed or removed.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;--> statement-breakpoint
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
