-- 009: several Vipps sales units and departments (issue 16, part 4). Each
-- sale keeps the merchant serial number its Vipps payment was made to and
-- the department it is booked under, as they were when it was made: the
-- till may sell under another unit tomorrow. NULL on older sales and on a
-- till that configures neither.
ALTER TABLE sales ADD COLUMN msn TEXT;
ALTER TABLE sales ADD COLUMN department TEXT;
