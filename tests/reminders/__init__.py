"""Tests of the reminders."""
