ALTER TABLE "audit_events" ADD COLUMN "consultation_ids" uuid[];--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "patient_ids" uuid[];--> statement-breakpoint
CREATE INDEX "audit_events_consultation_ids_idx" ON "audit_events" USING gin ("consultation_ids");--> statement-breakpoint
-- NOT VALID: every existing row has no arrays and so passes; this skips a second scan of the
-- whole trail under lock (the index build makes one). New rows are checked, and rows are never
-- updated (append-only).
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_subjects_check" CHECK (("audit_events"."consultation_ids" IS NULL AND "audit_events"."patient_ids" IS NULL) OR ("audit_events"."consultation_ids" IS NOT NULL AND "audit_events"."patient_ids" IS NOT NULL AND "audit_events"."consultation_id" IS NULL AND "audit_events"."patient_id" IS NULL AND cardinality("audit_events"."consultation_ids") > 0 AND cardinality("audit_events"."consultation_ids") = cardinality("audit_events"."patient_ids"))) NOT VALID;
