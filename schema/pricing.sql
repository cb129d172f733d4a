-- CloudTrail unit prices, as data. ctaudit loads these rows into the
-- `pricing` table of every database it creates, and `report`, `plan` and
-- `diff` use them unless --pricing FILE names another file of the same form:
-- INSERT statements into `pricing`, nothing else (anything else is refused).
--
-- Columns: partition, item, price, per (events), currency, unit, source_url,
-- as_of. Items:
--   management_copy        each copy of a management event after the first
--                          (the first copy per account and region is free)
--   data_event             each data event delivered, by every trail
--   network_activity_event each network activity event delivered, by every trail
--   insights_management    each management event analyzed, per Insights type
--   insights_data          each data event analyzed, per Insights type
--
-- Only the aws partition is listed: its prices are published on the page
-- below (and in this project's seed article). The China partitions bill in
-- CNY and GovCloud has its own price list; their rates could not be checked
-- offline, so they are not guessed: without a row for a partition, dollars
-- there come from Cost Explorer (ctcollect --costs) or stay "unknown". Add
-- them with --pricing FILE, for example:
--   INSERT INTO pricing VALUES ('aws-cn', 'management_copy', <price>, 100000,
--       'CNY', 'management events (additional copies)',
--       'https://www.amazonaws.cn/en/cloudtrail/pricing/', 'YYYY-MM-DD');

INSERT INTO pricing (partition, item, price, per, currency, unit, source_url, as_of) VALUES
    ('aws', 'management_copy', 2.00, 100000, 'USD',
     'management events delivered by an additional copy',
     'https://aws.amazon.com/cloudtrail/pricing/', '2026-11-24'),
    ('aws', 'data_event', 0.10, 100000, 'USD',
     'data events delivered, per trail',
     'https://aws.amazon.com/cloudtrail/pricing/', '2026-11-24'),
    ('aws', 'network_activity_event', 0.10, 100000, 'USD',
     'network activity events delivered, per trail',
     'https://aws.amazon.com/cloudtrail/pricing/', '2026-11-24'),
    ('aws', 'insights_management', 0.35, 100000, 'USD',
     'management events analyzed, per Insights type, per trail',
     'https://aws.amazon.com/cloudtrail/pricing/', '2026-11-24'),
    ('aws', 'insights_data', 0.03, 100000, 'USD',
     'data events analyzed, per Insights type, per trail',
     'https://aws.amazon.com/cloudtrail/pricing/', '2026-11-24');
