"""What the tests share: stand-ins only tests run, sample data, fixtures helpers."""
