"""What builds a report or digest, and what writes it to xlsx, PNG or QR."""
