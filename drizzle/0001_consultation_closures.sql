CREATE TABLE "consultation_closures" (
	"consultation_id" uuid PRIMARY KEY NOT NULL,
	"outcome" text NOT NULL,
	"closed_by_user_id" uuid,
	"reason" text,
	"closed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "consultation_closures_outcome_check" CHECK ("consultation_closures"."outcome" IN ('completed', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "consultation_closures" ADD CONSTRAINT "consultation_closures_consultation_id_video_consultations_id_fk" FOREIGN KEY ("consultation_id") REFERENCES "public"."video_consultations"("id") ON DELETE no action ON UPDATE no action;