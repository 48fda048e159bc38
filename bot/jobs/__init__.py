# Scheduled work on PTB's JobQueue (the weekly digest).
