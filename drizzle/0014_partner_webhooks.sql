CREATE TABLE "partner_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"endpoint_id" uuid NOT NULL,
	"event_id" bigint NOT NULL,
	"consultation_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"origin" text DEFAULT 'event' NOT NULL,
	"head" boolean DEFAULT false NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"lease_token" uuid,
	"first_attempt_at" timestamp with time zone,
	"last_attempt_at" timestamp with time zone,
	"last_status_code" integer,
	"last_error_class" text,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "partner_deliveries_status_check" CHECK ("partner_deliveries"."status" IN ('pending', 'delivered', 'failed', 'cancelled')),
	CONSTRAINT "partner_deliveries_origin_check" CHECK ("partner_deliveries"."origin" IN ('event', 'redelivery', 'replay'))
);
--> statement-breakpoint
CREATE TABLE "partner_delivery_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL,
	"status_code" integer,
	"error_class" text
);
--> statement-breakpoint
CREATE TABLE "partner_endpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"url" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"event_types" text[] NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"disabled_reason" text,
	"disabled_at" timestamp with time zone,
	"secret" text NOT NULL,
	"previous_secret" text,
	"previous_secret_until" timestamp with time zone,
	"after_event_id" bigint NOT NULL,
	"replay_through_event_id" bigint,
	"failing_since" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "partner_endpoints_disabled_reason_check" CHECK ("partner_endpoints"."disabled_reason" IS NULL OR "partner_endpoints"."disabled_reason" IN ('admin', 'gone', 'failing'))
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "target_id" uuid;--> statement-breakpoint
ALTER TABLE "partner_deliveries" ADD CONSTRAINT "partner_deliveries_endpoint_id_partner_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."partner_endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "partner_deliveries" ADD CONSTRAINT "partner_deliveries_event_id_consultation_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."consultation_events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "partner_delivery_attempts" ADD CONSTRAINT "partner_delivery_attempts_delivery_id_partner_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."partner_deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "partner_deliveries_heads_idx" ON "partner_deliveries" USING btree ("endpoint_id","event_id","id") WHERE "partner_deliveries"."status" = 'pending' and "partner_deliveries"."head";--> statement-breakpoint
CREATE INDEX "partner_deliveries_pending_consultation_idx" ON "partner_deliveries" USING btree ("endpoint_id","consultation_id","event_id") WHERE "partner_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "partner_deliveries_endpoint_idx" ON "partner_deliveries" USING btree ("endpoint_id","id");--> statement-breakpoint
CREATE INDEX "partner_deliveries_event_idx" ON "partner_deliveries" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "partner_delivery_attempts_delivery_idx" ON "partner_delivery_attempts" USING btree ("delivery_id","attempt");