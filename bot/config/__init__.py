"""Settings, the office file and the working-day calendar."""
