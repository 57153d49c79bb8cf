"""A team's regression model: disease progression a year after baseline."""
