//go:build !linux

package main

import "math"

// cpu reads no CPU times where there is no /proc; the bench leaves the figures out.
func (s *served) cpu() cpuUse { return cpuUse{} }

// servicesCPU reads nothing where there is no /proc; the bench leaves the figures out.
func servicesCPU() servicesUse { return servicesUse{broker: math.NaN(), db: math.NaN()} }

// processTree is root alone where there is no /proc.
func processTree(root int) []int { return []int{root} }
