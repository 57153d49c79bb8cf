"""The data a model is judged on: datasets, versioned golden data, passports, slices, inferred schemas."""
