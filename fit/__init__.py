"""Pure numerics: curve families, robust fitting, bootstrap, Pareto frontier, optimal size."""
