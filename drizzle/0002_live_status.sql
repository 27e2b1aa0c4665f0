CREATE TABLE "consultation_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"consultation_id" uuid NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"previous_status" text,
	"side" text,
	"peer_id" text,
	"joined_at" timestamp with time zone,
	"prescription_id" uuid,
	"dedupe_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consultation_events_dedupe_key" UNIQUE("consultation_id","dedupe_key"),
	CONSTRAINT "consultation_events_type_check" CHECK ("consultation_events"."type" IN ('PARTICIPANT_JOINED', 'PARTICIPANT_LEFT', 'STATUS_CHANGED', 'PRESCRIPTION_CREATED'))
);
--> statement-breakpoint
CREATE TABLE "consultation_live" (
	"consultation_id" uuid PRIMARY KEY NOT NULL,
	"doctor_online" boolean DEFAULT false NOT NULL,
	"doctor_peer_id" text,
	"doctor_joined_at" timestamp with time zone,
	"doctor_left_at" timestamp with time zone,
	"patient_online" boolean DEFAULT false NOT NULL,
	"patient_peer_id" text,
	"patient_joined_at" timestamp with time zone,
	"patient_left_at" timestamp with time zone,
	"connected_ms" integer DEFAULT 0 NOT NULL,
	"both_since" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hms_peer_connections" (
	"peer_id" text PRIMARY KEY NOT NULL,
	"consultation_id" uuid NOT NULL,
	"session_id" text,
	"user_id" text,
	"role" text,
	"side" text,
	"flagged" boolean DEFAULT false NOT NULL,
	"joined_at" timestamp with time zone,
	"left_at" timestamp with time zone,
	"left_reason" text,
	"source" text DEFAULT 'webhook' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hms_sessions" (
	"session_id" text PRIMARY KEY NOT NULL,
	"consultation_id" uuid NOT NULL,
	"started_at" timestamp with time zone,
	"stopped_at" timestamp with time zone,
	"room_ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "hms_webhook_events" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"room_id" text,
	"sent_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"payload" jsonb NOT NULL,
	"processed_at" timestamp with time zone,
	"outcome" text,
	"attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "consultation_events" ADD CONSTRAINT "consultation_events_consultation_id_video_consultations_id_fk" FOREIGN KEY ("consultation_id") REFERENCES "public"."video_consultations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consultation_live" ADD CONSTRAINT "consultation_live_consultation_id_video_consultations_id_fk" FOREIGN KEY ("consultation_id") REFERENCES "public"."video_consultations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hms_peer_connections" ADD CONSTRAINT "hms_peer_connections_consultation_id_video_consultations_id_fk" FOREIGN KEY ("consultation_id") REFERENCES "public"."video_consultations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hms_sessions" ADD CONSTRAINT "hms_sessions_consultation_id_video_consultations_id_fk" FOREIGN KEY ("consultation_id") REFERENCES "public"."video_consultations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "consultation_events_consultation_idx" ON "consultation_events" USING btree ("consultation_id","id");--> statement-breakpoint
CREATE INDEX "hms_peer_connections_consultation_idx" ON "hms_peer_connections" USING btree ("consultation_id");--> statement-breakpoint
CREATE INDEX "hms_sessions_consultation_idx" ON "hms_sessions" USING btree ("consultation_id");--> statement-breakpoint
CREATE INDEX "hms_webhook_events_unprocessed_idx" ON "hms_webhook_events" USING btree ("received_at") WHERE "hms_webhook_events"."processed_at" IS NULL;--> statement-breakpoint
CREATE INDEX "hms_webhook_events_room_idx" ON "hms_webhook_events" USING btree ("room_id");