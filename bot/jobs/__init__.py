# Scheduled work on PTB's JobQueue (the weekly digest, the deadline reminders).
