"""A team's multiclass model: the cultivar of a wine from its chemical analysis."""
