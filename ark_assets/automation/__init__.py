"""What runs without a person: jobs, schedules, sensors (see README "Sensors and schedules")."""
