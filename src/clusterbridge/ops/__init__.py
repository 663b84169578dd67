"""What operators watch: metrics, the health and readiness endpoints, and progress of long runs."""
