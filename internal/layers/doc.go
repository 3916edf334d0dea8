// Package layers holds no code: its test keeps the module's dependency direction, cmd →
// applications → hub → routes, connectors, transforms → protocol libraries and the dossier
// domain → contracts (envelope, fault, store, spec), so that a newcomer can read the module one
// layer at a time.
package layers
