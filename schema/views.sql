-- Views: what the loaded tables mean (filled in by the report work).
SELECT 1;
