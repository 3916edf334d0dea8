package routes

// ExpandEnv exposes expandEnv to the tests of package routes_test.
var ExpandEnv = expandEnv
