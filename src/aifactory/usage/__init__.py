"""External usage records (job traces) and what reads them."""
