"""Tests of tfprod.runtime.analysis."""
