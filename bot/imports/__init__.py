"""Reading files from other software into the register."""
