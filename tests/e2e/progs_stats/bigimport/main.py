"""For tests/e2e/test_stats.py: all the work happens while app is imported."""
import app

print(app.TOTAL)
