"""Generation and scoring: datasets, prompts, backends, grading, rewards, tree search."""
