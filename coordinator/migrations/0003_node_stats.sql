CREATE TABLE `node_stats` (
	`node_id` text PRIMARY KEY NOT NULL,
	`steps` integer NOT NULL,
	`verified_steps` integer NOT NULL,
	`credits` integer NOT NULL,
	`failed_checks` integer NOT NULL,
	`disputes` integer NOT NULL,
	`dispute_open` integer NOT NULL,
	`checks_skipped` integer NOT NULL,
	`excluded_at` integer,
	`excluded_reason` text,
	`updated_at` integer NOT NULL
);
