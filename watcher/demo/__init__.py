"""The offline demo: stand-ins, a recorded session, the real daemon."""
