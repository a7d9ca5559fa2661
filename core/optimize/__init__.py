"""Parameter search over the backtester with Optuna (``blockbotx optimize``): docs/optimize.md."""
